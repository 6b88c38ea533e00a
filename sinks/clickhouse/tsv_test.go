package clickhouse

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

func TestTSVEscapeRoundTrip(t *testing.T) {
	f := func(in, wantEscaped string) {
		t.Helper()
		esc := string(appendTSVString(nil, in))
		if esc != wantEscaped {
			t.Fatalf("escape %q = %q, want %q", in, esc, wantEscaped)
		}
		var got []string
		if err := parseTSV([]byte(esc+"\tx\n"), func(row []string) error { got = slices.Clone(row); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []string{in, "x"}) {
			t.Fatalf("parse %q = %q", esc, got)
		}
	}
	f("plain", "plain")
	f("", "")
	f("a\tb\nc", `a\tb\nc`)
	f(`back\slash`, `back\\slash`)
	f("it's", `it\'s`)
	f("nul\x00cr\rbs\bff\f", `nul\0cr\rbs\bff\f`)
	f("ünï 😀", "ünï 😀")
	f("\\\t", `\\\t`)                           // escapes back to back
	f("\nstart and end\n", `\nstart and end\n`) // escapes at both ends
}

// tsvEscapeByteWise is the format's rule written plainly, one byte at a
// time: what the word-at-a-time escaper must agree with.
func tsvEscapeByteWise(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\t', '\n', '\r', 0, '\b', '\f':
			b.WriteByte('\\')
			b.WriteByte(map[byte]byte{'\t': 't', '\n': 'n', '\r': 'r', 0: '0', '\b': 'b', '\f': 'f'}[c])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Every byte value, at every place of a word and across words, escapes as
// the format says, from strings and from byte slices alike.
func TestTSVEscapeEveryByte(t *testing.T) {
	const clean = "abcdefghijklmnopqrstuvwx" // three words
	for b := 0; b < 256; b++ {
		for at := 0; at <= len(clean); at++ {
			in := clean[:at] + string([]byte{byte(b)}) + clean[at:]
			want := tsvEscapeByteWise(in)
			if got := string(appendTSVString([]byte("x"), in)); got != "x"+want {
				t.Fatalf("string with byte %#x at %d: %q, want %q", b, at, got, "x"+want)
			}
			if got := string(appendTSVBytes(nil, []byte(in))); got != want {
				t.Fatalf("bytes with byte %#x at %d: %q, want %q", b, at, got, want)
			}
		}
	}
	if got, want := string(appendTSVString(nil, "é\x00ü'\x80\xff\\\x0e\x0d"+clean)), `é\0ü\'`+"\x80\xff"+`\\`+"\x0e"+`\r`+clean; got != want {
		t.Errorf("mixed: %q, want %q", got, want)
	}
}

func TestParseTSVRows(t *testing.T) {
	var rows [][]string
	err := parseTSV([]byte("1\t\\N\ta\\\\b\n2\t\t\n"), func(row []string) error {
		rows = append(rows, slices.Clone(row))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"1", nullText, `a\b`}, {"2", "", ""}}
	if len(rows) != 2 || !slices.Equal(rows[0], want[0]) || !slices.Equal(rows[1], want[1]) {
		t.Fatalf("rows = %q, want %q", rows, want)
	}
}

func TestAppendTSVScalars(t *testing.T) {
	f := func(got []byte, want string) {
		t.Helper()
		if string(got) != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	u := uuid.MustParse("0190b2a4-1c2d-7e3f-8a4b-5c6d7e8f9a0b")
	f(canonical.AppendUUID(nil, u), u.String())
	f(canonical.AppendUUID(nil, uuid.Nil), "00000000-0000-0000-0000-000000000000")
	f(appendTSVTime(nil, 1_700_000_000_123, true), "2023-11-14 22:13:20.123")
	f(appendTSVTime(nil, 1_700_000_000_123, false), "2023-11-14 22:13:20")
	f(appendTSVTime(nil, 0, true), "1970-01-01 00:00:00.000")
	f(appendTSVTime(nil, -5, true), "1970-01-01 00:00:00.000")
	f(appendTSVTime(nil, 1<<62, false), "2105-12-31 23:59:59")
	f(appendTSVValue(nil, true, 19.999), "20.00")
	f(appendTSVValue(nil, true, -0.125), "-0.13")
	f(appendTSVValue(nil, false, 3), `\N`)
	f(appendTSVStringArray(nil, []string{"read", "it's"}), `['read','it\'s']`)
	f(appendTSVStringArray(nil, nil), "[]")
}

func FuzzTSVRoundTrip(f *testing.F) {
	f.Add("a\tb", "c\nd")
	f.Add(`\N`, "\x00'\\")
	f.Fuzz(func(t *testing.T, a, b string) {
		line := appendTSVString(nil, a)
		line = append(line, '\t')
		line = appendTSVString(line, b)
		line = append(line, '\n')
		var got []string
		if err := parseTSV(line, func(row []string) error { got = slices.Clone(row); return nil }); err != nil {
			t.Fatal(err)
		}
		if esc := string(appendTSVString(nil, a)); esc != tsvEscapeByteWise(a) {
			t.Fatalf("escape of %q = %q, want %q", a, esc, tsvEscapeByteWise(a))
		}
		want := []string{a, b}
		if !slices.Equal(got, want) {
			t.Fatalf("round trip of %q = %q", want, got)
		}
	})
}

func FuzzParseTSV(f *testing.F) {
	f.Add([]byte("1\t\\N\tx\\ty\n2\n"))
	f.Add([]byte("\\"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = parseTSV(data, func(row []string) error {
			if len(row) == 0 {
				t.Fatal("empty row")
			}
			return nil
		})
	})
}

// appendTSVTime writes what time.Time.AppendFormat would, over the whole
// stored range.
func TestAppendTSVTimeMatchesFormat(t *testing.T) {
	for ms := int64(minStoredMillis); ms <= maxStoredMillis; ms += 987_654_321_987 / 1000 {
		for _, at := range []int64{ms, ms + 999, ms - 1} {
			st := storedTime(at)
			if got, want := string(appendTSVTime(nil, at, true)), st.Format("2006-01-02 15:04:05.000"); got != want {
				t.Fatalf("%d: %q, want %q", at, got, want)
			}
			if got, want := string(appendTSVTime(nil, at, false)), st.Format("2006-01-02 15:04:05"); got != want {
				t.Fatalf("%d: %q, want %q", at, got, want)
			}
		}
	}
}
