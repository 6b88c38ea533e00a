package translate

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

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

func TestFindAPIKey(t *testing.T) {
	keyA, a, _ := NewAPIKey("a", []string{"ingest"}, 0, 1, nil)
	_, b, _ := NewAPIKey("b", []string{"ingest"}, 0, 2, nil)
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
		k, err := FindAPIKey(keys, ref)
		switch {
		case wantName == "" && !errors.Is(err, ErrAPIKeyNotFound):
			t.Fatalf("FindAPIKey(%q) = %q, %v; want not found", ref, k.Name, err)
		case wantName == "ambiguous" && (err == nil || errors.Is(err, ErrAPIKeyNotFound) || !strings.Contains(err.Error(), "give the id")):
			t.Fatalf("FindAPIKey(%q) = %q, %v; want an ambiguity error", ref, k.Name, err)
		case wantName != "" && wantName != "ambiguous" && (err != nil || k.Name != wantName):
			t.Fatalf("FindAPIKey(%q) = %q, %v; want %q", ref, k.Name, err, wantName)
		}
	}
	f(APIKeyID(&a), "a")
	f(a.Prefix, "a")
	f(keyA, "a")
	f(APIKeyID(&b), "b")
	f(APIKeyID(&c), "c")
	f(b.Prefix, "ambiguous")
	f(a.Hash, "") // the whole hash is not an id
	f("", "")
	f("hsk_nope", "")
}

// TestRevokeAPIKey: revocation reaches the store and the journal; a retry
// after a failed journal write writes the row again with the first
// revocation time; an unknown id is ErrAPIKeyNotFound.
func TestRevokeAPIKey(t *testing.T) {
	j := &flakyJournal{}
	in := newTestIngestor(j)
	defer in.Close()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	in.now = func() time.Time { return now }
	ctx := context.Background()
	_, rec, err := in.CreateAPIKey(ctx, "k", []string{"ingest"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	j.fail = 1
	if _, err := in.RevokeAPIKey(ctx, APIKeyID(&rec)); !errors.Is(err, ErrNotDurable) {
		t.Fatalf("revoke with a failing journal: %v, want ErrNotDurable", err)
	}
	now = now.Add(time.Minute)
	k, err := in.RevokeAPIKey(ctx, APIKeyID(&rec))
	if err != nil {
		t.Fatal(err)
	}
	want := now.Add(-time.Minute).UnixMilli()
	if k.RevokedAt != want || k.Hash != rec.Hash {
		t.Fatalf("revoked key %+v, want RevokedAt %d", k, want)
	}
	stored, _, _ := in.APIKey(ctx, rec.Hash)
	if stored.RevokedAt != want {
		t.Fatalf("store holds RevokedAt %d, want %d", stored.RevokedAt, want)
	}
	last := j.batches[len(j.batches)-1]
	if len(j.batches) != 2 || len(last.APIKeys) != 1 || last.APIKeys[0].RevokedAt != want {
		t.Fatalf("journal: %d batches, last %+v; want the creation and the revocation", len(j.batches), last.APIKeys)
	}
	if _, err := in.RevokeAPIKey(ctx, "0123456789abcdef"); !errors.Is(err, ErrAPIKeyNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	keys, err := in.ListAPIKeys(ctx)
	if err != nil || len(keys) != 1 || keys[0].RevokedAt != want {
		t.Fatalf("list = %+v, %v", keys, err)
	}
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
