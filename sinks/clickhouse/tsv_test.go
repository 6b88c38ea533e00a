package clickhouse

import (
	"slices"
	"testing"

	"github.com/google/uuid"
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
	f(appendTSVUUID(nil, u), u.String())
	f(appendTSVUUID(nil, uuid.Nil), "00000000-0000-0000-0000-000000000000")
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
