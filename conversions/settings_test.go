package conversions

import "testing"

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
