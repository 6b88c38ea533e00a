package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestUpstreamThroughTheService: with HOGSEND_UPSTREAM_URL set, a route the
// proxy does not serve reaches the engine with the client's key and comes
// back as the engine answered, while the proxy's own routes stay its own.
func TestUpstreamThroughTheService(t *testing.T) {
	var calls atomic.Int64
	engine := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Path != "/v1/contacts/me" || r.Header.Get("Authorization") != "Bearer hsk_from_the_engine" {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"unexpected request"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"contact":null}`)
	}))
	t.Cleanup(engine.Close)
	cfg, _, _ := serverConfig(t)
	cfg.UpstreamURL = engine.URL
	h := startHarness(t, cfg)

	r := h.do("GET", "/v1/contacts/me", "hsk_from_the_engine", "", "")
	if r.status != 200 || string(r.body) != `{"contact":null}` || calls.Load() != 1 {
		t.Fatalf("passed through: %d %s (%d engine calls), want the engine's 200", r.status, r.body, calls.Load())
	}
	if r := h.json("PUT", "/v1/contacts", `{"userId":"u_up"}`); r.status != 200 || !strings.Contains(string(r.body), `"id"`) || calls.Load() != 1 {
		t.Fatalf("served here: %d %s (%d engine calls)", r.status, r.body, calls.Load())
	}
	rz := h.do("GET", "/readyz", "", "", "")
	if rz.status != 200 || !strings.Contains(string(rz.body), `"hogsend_engine":{"ok":true`) {
		t.Fatalf("/readyz: %d %s, want the engine reported", rz.status, rz.body)
	}
}
