package proxy

import (
	"strings"
	"testing"
)

// TestRemoteConfigPaths: malformed /array/ paths answer 404 (they used to
// panic slicing the token); well-formed ones answer the token's config.
func TestRemoteConfigPaths(t *testing.T) {
	ts := newTestServer(t, Options{}, nil, nil)
	f := func(path string, status int, want string) {
		t.Helper()
		r := ts.do("GET", path, "")
		if r.status != status || !strings.Contains(r.body, want) {
			t.Fatalf("GET %s: %d %s, want %d with %q", path, r.status, r.body, status, want)
		}
	}
	f("/array/config", 404, `"error":"Not Found"`)
	f("/array/config.js", 404, `"error":"Not Found"`)
	f("/array//config", 404, `"error":"Not Found"`)
	f("/array/", 404, `"error":"Not Found"`)
	f("/array/phc_a/b/config", 404, `"error":"Not Found"`)
	f("/array/phc_a/settings", 404, `"error":"Not Found"`)
	f("/array/phc_a/config", 200, `{"token":"phc_a",`)
	f("/array/phc_a/config/", 200, `{"token":"phc_a",`)
	f("/array/phc_a/config.js", 200, `window._POSTHOG_REMOTE_CONFIG["phc_a"]={config:{"token":"phc_a"`)
	if got := ts.metric("hogsend_panics_total"); got != 0 {
		t.Fatalf("hogsend_panics_total = %v", got)
	}
}
