package conversions

import (
	"strings"
	"testing"
)

func TestSnippet(t *testing.T) {
	f := func(body, want string) {
		t.Helper()
		if got := Snippet([]byte(body)); got != want {
			t.Errorf("Snippet(%q) = %q, want %q", body, got, want)
		}
	}
	f("", "empty body")
	f("  \n", "empty body")
	f(" bad request \n", "bad request")
	f("\xff\xfe", "\uFFFD")
	f(`GET https://x.example/mp/collect?api_secret=s3cret&measurement_id=G-1 failed`,
		`GET https://x.example/mp/collect?api_secret=REDACTED&measurement_id=REDACTED failed`)
	f(`<a href="http://user:pw@h.example/p?token=t">`, `<a href="http://h.example/p?token=REDACTED">`)
	f("see HTTPS://H.example/?k=v", "see https://H.example/?k=REDACTED")

	long := strings.Repeat("é", 300)
	s := Snippet([]byte(long))
	if !strings.HasSuffix(s, "…") || len(s) > snippetMax+len("…") || strings.ContainsRune(s, '\uFFFD') {
		t.Fatalf("snippet cut badly: %q", s)
	}
	// A secret past the cut is redacted before the cut, never half-kept.
	s = Snippet([]byte(strings.Repeat("x", 180) + " https://h.example/?api_secret=" + strings.Repeat("s", 50)))
	if strings.Contains(s, "sss") {
		t.Fatalf("secret leaked: %q", s)
	}
}
