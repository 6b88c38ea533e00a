package jsontext

import "testing"

func TestAppendString(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := string(AppendString(nil, in)); got != want {
			t.Fatalf("AppendString(%q) = %s, want %s", in, got, want)
		}
	}
	f(`plain`, `"plain"`)
	f("q\"b\\n\n\t\x01", `"q\"b\\n\n\t\u0001"`)
	f("é✓😀", `"é✓😀"`)
	f("bad\xffutf8", `"bad\ufffdutf8"`)
}

func TestMembers(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1}`: `"a":1`, ` { "a" : 1 } `: `"a" : 1`, `{}`: "", ` { } `: "", `[]`: "", ``: "", `{`: "", `x{"a":1}`: "",
	} {
		if got := string(Members([]byte(in))); got != want {
			t.Errorf("Members(%q) = %q, want %q", in, got, want)
		}
	}
}
