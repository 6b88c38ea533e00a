package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// engineFake records what reaches it and answers as told.
type engineFake struct {
	*httptest.Server
	mu    sync.Mutex
	seen  []seenRequest
	reply func(w http.ResponseWriter, r *http.Request)
}

type seenRequest struct {
	method, uri string
	header      http.Header
	body        string
}

func newEngineFake(t *testing.T) *engineFake {
	f := &engineFake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.seen = append(f.seen, seenRequest{method: r.Method, uri: r.RequestURI, header: r.Header.Clone(), body: string(body)})
		reply := f.reply
		f.mu.Unlock()
		if reply != nil {
			reply(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(202)
		io.WriteString(w, `{"engine":true}`)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *engineFake) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

func (f *engineFake) answer(reply func(w http.ResponseWriter, r *http.Request)) {
	f.mu.Lock()
	f.reply = reply
	f.mu.Unlock()
}

func upstreamServer(t *testing.T, base string, timeout time.Duration) *testServer {
	up, err := NewUpstream(UpstreamOptions{URL: base, Timeout: timeout, BreakerFailures: 3, BreakerOpenFor: 7 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return newTestServer(t, Options{Upstream: up}, nil, nil)
}

// TestUpstreamPassThrough: a route the proxy does not serve reaches the
// engine unchanged but for the hop-by-hop headers, with X-Forwarded set
// from what the proxy saw, and the engine's answer comes back as sent.
func TestUpstreamPassThrough(t *testing.T) {
	engine := newEngineFake(t)
	engine.answer(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Engine", "yes")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("Retry-After", "9")
		w.WriteHeader(429)
		io.WriteString(w, `{"error":"Too many requests"}`)
	})
	ts := upstreamServer(t, engine.URL+"/engine/", 5*time.Second)
	r := ts.do("POST", "/v1/emails?dry=1&x=%2F", `{"to":"a@b.co","template":"welcome"}`,
		"Authorization: Bearer hsk_engine_key", "Content-Type: application/json", "X-Custom: kept",
		"Connection: X-Drop-Me", "X-Drop-Me: gone", "Proxy-Authorization: Basic eA==", "TE: trailers",
		"X-Forwarded-For: 6.6.6.6")
	if r.status != 429 || r.body != `{"error":"Too many requests"}` || r.header["X-Engine"] != "yes" || r.header["Retry-After"] != "9" {
		t.Fatalf("answer %d %v %s, want the engine's 429 as sent", r.status, r.header, r.body)
	}
	if _, ok := r.header["Keep-Alive"]; ok {
		t.Fatalf("the engine's hop-by-hop Keep-Alive reached the client: %v", r.header)
	}
	seen := engine.requests()
	if len(seen) != 1 {
		t.Fatalf("%d requests reached the engine, want 1", len(seen))
	}
	got := seen[0]
	if got.method != "POST" || got.uri != "/engine/v1/emails?dry=1&x=%2F" || got.body != `{"to":"a@b.co","template":"welcome"}` {
		t.Fatalf("engine saw %s %s %q", got.method, got.uri, got.body)
	}
	want := map[string]string{"Authorization": "Bearer hsk_engine_key", "Content-Type": "application/json", "X-Custom": "kept",
		"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "test",
		"X-Drop-Me": "", "Proxy-Authorization": "", "Te": ""}
	for h, v := range want {
		if g := got.header.Get(h); g != v {
			t.Errorf("engine saw %s %q, want %q", h, g, v)
		}
	}
}

// TestUpstreamKeepsEncodedPath: a path segment with an encoded slash (the
// SDK's encodeURIComponent of a group key "acme/eu") reaches the engine
// encoded, in its one segment, after routing parsed the path.
func TestUpstreamKeepsEncodedPath(t *testing.T) {
	engine := newEngineFake(t)
	ts := upstreamServer(t, engine.URL, 5*time.Second)
	ts.do("GET", "/v1/groups/company/acme%2Feu?x=%2F", "")
	if seen := engine.requests(); len(seen) != 1 || seen[0].uri != "/v1/groups/company/acme%2Feu?x=%2F" {
		t.Fatalf("engine saw %+v, want the path as the client sent it", seen)
	}
}

// TestUpstreamRouteConflicts: the PostHog and native routes the proxy
// serves stay its own, by method and shape; Hogsend's other routes, its
// root short links included, go to the engine.
func TestUpstreamRouteConflicts(t *testing.T) {
	engine := newEngineFake(t)
	ts := upstreamServer(t, engine.URL, 5*time.Second)
	for _, c := range []struct {
		method, path, body string
		toEngine           bool
		status             int
	}{
		{"POST", "/s/", `x`, false, 200},                      // PostHog recordings
		{"GET", "/s/abc123", "", true, 202},                   // Hogsend short link
		{"GET", "/s/", "", true, 202},                         // not a recording upload
		{"GET", "/l/launch", "", true, 202},                   // Hogsend link
		{"GET", "/hogsend.js", "", true, 202},                 // Hogsend's script
		{"POST", "/batch/", `{"batch":[`, false, 400},         // PostHog capture
		{"PUT", "/v1/contacts", `{}`, false, 401},             // served here
		{"GET", "/v1/contacts/me", "", true, 202},             // the engine's
		{"POST", "/v1/lists/news/subscribe", `{}`, true, 202}, // the engine's
		{"POST", "/flags/?v=2", `{}`, false, 200},             // PostHog flags
		{"GET", "/healthz", "", false, 200},                   // the proxy's own
		{"OPTIONS", "/v1/emails", "", false, 204},             // preflight answered here
		{"DELETE", "/v1/admin/api-keys/abc", "", false, 401},  // served here
		{"GET", "/v1/campaigns?status=queued", "", true, 202}, // the engine's
	} {
		before := len(engine.requests())
		r := ts.do(c.method, c.path, c.body, "Content-Type: application/json")
		reached := len(engine.requests()) > before
		if reached != c.toEngine || r.status != c.status {
			t.Errorf("%s %s: %d %s, engine reached %v; want %d, engine %v", c.method, c.path, r.status, r.body, reached, c.status, c.toEngine)
		}
	}
}

// TestUpstreamDown: an engine that cannot be reached answers 503 with
// Retry-After; after the breaker's failures it answers at once with the
// breaker's wait, and /readyz reports the engine without failing.
func TestUpstreamDown(t *testing.T) {
	engine := newEngineFake(t)
	ts := upstreamServer(t, engine.URL, 5*time.Second)
	engine.Close()
	for i := range 3 {
		r := ts.do("GET", "/v1/lists", "")
		if r.status != 503 || r.header["Retry-After"] != "1" || !strings.Contains(r.body, "unreachable") {
			t.Fatalf("attempt %d with the engine down: %d %v %s", i, r.status, r.header, r.body)
		}
	}
	r := ts.do("GET", "/v1/lists", "")
	if r.status != 503 || r.header["Retry-After"] != "7" || !strings.Contains(r.body, "unavailable") {
		t.Fatalf("breaker open: %d %v %s, want 503 with the breaker's Retry-After", r.status, r.header, r.body)
	}
	if ts.metric(`hogsend_upstream_requests_total{outcome="unavailable"}`) != 4 {
		t.Fatalf("unavailable answers counted: %v, want 4", ts.metric(`hogsend_upstream_requests_total{outcome="unavailable"}`))
	}
	rz := ts.do("GET", "/readyz", "")
	if rz.status != 200 || !strings.Contains(rz.body, `"hogsend_engine":{"ok":false,"detail":"breaker open"}`) {
		t.Fatalf("/readyz with the engine down: %d %s, want 200 naming the engine", rz.status, rz.body)
	}
}

// TestUpstreamTimeout: an engine slower than the timeout gets 504.
func TestUpstreamTimeout(t *testing.T) {
	engine := newEngineFake(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	engine.answer(func(w http.ResponseWriter, r *http.Request) { <-release })
	ts := upstreamServer(t, engine.URL, 200*time.Millisecond)
	if r := ts.do("GET", "/v1/lists", ""); r.status != 504 || !strings.Contains(r.body, "in time") {
		t.Fatalf("slow engine: %d %s, want 504", r.status, r.body)
	}
}

func TestNewUpstreamRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "http://", "://nope"} {
		if _, err := NewUpstream(UpstreamOptions{URL: u}); err == nil {
			t.Errorf("NewUpstream(%q) accepted", u)
		}
	}
}
