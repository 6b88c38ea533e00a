package jsontext

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func TestValidate(t *testing.T) {
	f := func(in string, max int, want Verdict) {
		t.Helper()
		if got := Validate([]byte(in), max); got != want {
			t.Fatalf("Validate(%q, %d) = %d, want %d", in, max, got, want)
		}
	}
	f(`{"a":[1,{"b":2}]}`, 3, Valid)
	f(`{"a":[1,{"b":2}]}`, 2, TooDeep)
	f(` {"a" : [ 1 , { "b" : 2 } ] } `+"\n", 3, Valid)
	f(`{"a":"[[[[[[[[[["}`, 1, Valid) // brackets inside strings do not count
	f(`{"a":"\"[[[\\"}`, 1, Valid)
	f(strings.Repeat("[", 300)+strings.Repeat("]", 300), MaxDepth, TooDeep)
	f(strings.Repeat("[", 256)+strings.Repeat("]", 256), MaxDepth, Valid)
	f(`[]`, 1, Valid)
	f(`{}`, 1, Valid)
	f(`[]`, 0, TooDeep)
	f(`[]`, -1, TooDeep)
	f(strings.Repeat("[", 300)+strings.Repeat("]", 300), 1000, TooDeep) // never deeper than MaxDepth
	f(`"x"`, 0, Valid)
	f(`-0.5e+10`, 1, Valid)
	f(`true`, 1, Valid)
	f(`"\u00e9\ud83d\ude00\/\b\f\n\r\t"`, 1, Valid)
	f(`"long string with no escapes at all, long enough for several words"`, 1, Valid)
	f("\"caf\xc3\xa9 \xff\"", 1, Valid) // UTF-8 is not this function's concern (as gjson)

	bad := func(in string) {
		t.Helper()
		if got := Validate([]byte(in), MaxDepth); got != Invalid {
			t.Fatalf("Validate(%q) = %d, want Invalid", in, got)
		}
		if gjson.Valid(in) {
			t.Fatalf("gjson accepts %q: the case is wrong", in)
		}
	}
	for _, in := range []string{
		``, ` `, `{`, `}`, `[`, `[1,]`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a":1]`, `[1}`,
		`[1 2]`, `{"a":1 "b":2}`, `01`, `1.`, `.5`, `-`, `1e`, `1e+`, `+1`, `tru`, `truex`, `nul`, `[true false]`,
		`"abc`, `"a\"`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\tb\"", "\"a\x00b\"", "\"0123456789\x01abcdef\"",
		`1 2`, `{} {}`, `"a" x`, `[]]`, `{"a":1}}`, "\x00",
	} {
		bad(in)
	}
}

// depthReference is the plain byte-by-byte bracket count Validate's depth
// must agree with on valid text.
func depthReference(b []byte, max int) bool {
	depth, inString := 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			if depth++; depth > max {
				return false
			}
		case ']', '}':
			depth--
		}
	}
	return true
}

// FuzzValidate checks Validate against gjson.Valid and the reference depth:
// Valid exactly when both accept; TooDeep only when the text nests too deep.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"c\"d"}],"e":-1.5e3,"f":null}`, `[[["\"[["]]]`, `{"a":"\\\\"}[[[`,
		`"\u00e9"`, `[true,false,null]`, "\"abcdefgh\\\"ijklmnop\x1f\"", `{"a":{"b":{"c":[]}}}`} {
		f.Add([]byte(s), 3)
	}
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		max = int(uint(max)%8) + 1
		valid, within := gjson.ValidBytes(b), depthReference(b, max)
		switch got := Validate(b, max); got {
		case Valid:
			if !valid || !within {
				t.Fatalf("Validate(%q, %d) = Valid; gjson %v, within depth %v", b, max, valid, within)
			}
		case TooDeep:
			if within {
				t.Fatalf("Validate(%q, %d) = TooDeep; the reference finds it within depth", b, max)
			}
		default:
			if valid && within {
				t.Fatalf("Validate(%q, %d) = Invalid; gjson accepts it within depth", b, max)
			}
		}
	})
}
