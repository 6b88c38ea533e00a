package translate

import "testing"

func TestCheckOrigin(t *testing.T) {
	f := func(o string, ok bool) {
		t.Helper()
		if err := CheckOrigin(o); (err == nil) != ok {
			t.Fatalf("CheckOrigin(%q) = %v, want ok=%v", o, err, ok)
		}
	}
	f("https://app.example.com", true)
	f("http://localhost:3000", true)
	f("https://[::1]:8443", true)
	f("https://xn--bcher-kva.example", true)
	f("*", false)
	f("null", false)
	f("", false)
	f("https://*.example.com", false)
	f("https://app.example.com/", false)
	f("https://app.example.com/path", false)
	f("https://app.example.com?x=1", false)
	f("https://app.example.com?", false)
	f("https://app.example.com#f", false)
	f("https://user@app.example.com", false)
	f("ftp://app.example.com", false)
	f("chrome-extension://abcdef", false)
	f("app.example.com", false)
	f("https://", false)
	f("https://:8080", false)
	f("HTTPS://APP.example.com", false)
	f("https://app.example.com:443", false)
	f("http://app.example.com:80", false)
	f("https://app.example.com:0", false)
	f("https://app.example.com:65536", false)
	f("https://app.example.com:08080", false)
	f("https://a.com,https://b.com", false)
}

// TestNewAPIKeyRefusesBadOrigins: every way of minting a key goes through
// NewAPIKey, so neither the route nor the CLI can store an origin the check
// refuses.
func TestNewAPIKeyRefusesBadOrigins(t *testing.T) {
	if _, _, err := NewAPIKey("n", []string{"ingest-public"}, 0, 1, []string{"https://ok.example", "*"}); err == nil {
		t.Fatal("NewAPIKey accepted the origin *")
	}
	key, rec, err := NewAPIKey("n", []string{"ingest-public"}, 0, 1, []string{"https://ok.example"})
	if err != nil || key[:3] != "pk_" || rec.AllowedOrigins[0] != "https://ok.example" {
		t.Fatalf("NewAPIKey = %q %+v %v", key, rec, err)
	}
}
