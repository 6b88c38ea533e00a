package apikeys

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

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
// Mint, so neither the route nor the CLI can store an origin the check
// refuses.
func TestNewAPIKeyRefusesBadOrigins(t *testing.T) {
	if _, _, err := Mint("n", []string{"ingest-public"}, 0, 1, []string{"https://ok.example", "*"}); err == nil {
		t.Fatal("Mint accepted the origin *")
	}
	key, rec, err := Mint("n", []string{"ingest-public"}, 0, 1, []string{"https://ok.example"})
	if err != nil || key[:3] != "pk_" || rec.AllowedOrigins[0] != "https://ok.example" {
		t.Fatalf("Mint = %q %+v %v", key, rec, err)
	}
}

func TestFindAPIKey(t *testing.T) {
	keyA, a, _ := Mint("a", []string{"ingest"}, 0, 1, nil)
	_, b, _ := Mint("b", []string{"ingest"}, 0, 2, nil)
	c := b
	// c shares b's prefix, not its hash (nor so its id).
	first := "f"
	if b.Hash[0] == 'f' {
		first = "e"
	}
	c.Hash, c.Name = first+b.Hash[1:], "c"
	keys := []canonical.APIKey{a, b, c}
	f := func(ref, wantName string) {
		t.Helper()
		k, err := Find(keys, ref)
		switch {
		case wantName == "" && !errors.Is(err, ErrNotFound):
			t.Fatalf("Find(%q) = %q, %v; want not found", ref, k.Name, err)
		case wantName == "ambiguous" && (err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "give the id")):
			t.Fatalf("Find(%q) = %q, %v; want an ambiguity error", ref, k.Name, err)
		case wantName != "" && wantName != "ambiguous" && (err != nil || k.Name != wantName):
			t.Fatalf("Find(%q) = %q, %v; want %q", ref, k.Name, err, wantName)
		}
	}
	f(ID(&a), "a")
	f(a.Prefix, "a")
	f(keyA, "a")
	f(ID(&b), "b")
	f(ID(&c), "c")
	f(b.Prefix, "ambiguous")
	f(a.Hash, "") // the whole hash is not an id
	f("", "")
	f("hsk_nope", "")
}

// FuzzCheckOrigin: an accepted origin is exactly the scheme://host a browser
// would send for it, so it can match an Origin header.
func FuzzCheckOrigin(f *testing.F) {
	for _, s := range []string{"https://app.example.com", "http://localhost:3000", "*", "null", "https://a.b/c", "https://[::1]:8443", "https://a.b?"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, o string) {
		if CheckOrigin(o) != nil {
			return
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" ||
			o != u.Scheme+"://"+u.Host || o != strings.ToLower(o) || strings.ContainsAny(o[len(u.Scheme)+3:], "*, /?#@") {
			t.Fatalf("accepted %q", o)
		}
	})
}
