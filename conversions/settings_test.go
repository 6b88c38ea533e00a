package conversions

import (
	"strings"
	"testing"
)

func TestHTTPURL(t *testing.T) {
	f := func(raw string, want bool) {
		t.Helper()
		if got := HTTPURL(raw); got != want {
			t.Fatalf("HTTPURL(%q) = %v, want %v", raw, got, want)
		}
	}
	f("https://graph.facebook.com", true)
	f("http://127.0.0.1:9/prefix", true)
	f("graph.facebook.com", false)
	f("ftp://x", false)
	f("https://x/?a=1", false)
	f("", false)
}

func TestCallingCode(t *testing.T) {
	f := func(raw, want string, ok bool) {
		t.Helper()
		if got, gotOK := CallingCode(raw); got != want || gotOK != ok {
			t.Fatalf("CallingCode(%q) = %q, %v; want %q, %v", raw, got, gotOK, want, ok)
		}
	}
	f("", "", true)
	f(" +44 ", "44", true)
	f("1", "1", true)
	f("353", "353", true)
	f("0044", "0044", false)
	f("UK", "UK", false)
	f("1234", "1234", false)
}

func TestSecretAndBaseURLErrors(t *testing.T) {
	for _, c := range []struct{ value, want string }{
		{"", "token: required"},
		{"${TOKEN}", "token: looks like an unexpanded ${VAR}"},
		{"a b", "token: must not contain spaces or control characters"},
		{"a\x7f", "token: must not contain spaces or control characters"},
		{"abc-123_XYZ", ""},
	} {
		err := SecretError("token", c.value)
		if (c.want == "" && err != nil) || (c.want != "" && (err == nil || err.Error() != c.want)) {
			t.Errorf("SecretError(%q) = %v, want %q", c.value, err, c.want)
		}
	}
	if err := BaseURLError("https://api.example/v1"); err != nil {
		t.Errorf("a good base_url: %v", err)
	}
	if err := BaseURLError("https://api.example/?q=1"); err == nil || !strings.Contains(err.Error(), "base_url:") {
		t.Errorf("a base_url with a query: %v", err)
	}
}
