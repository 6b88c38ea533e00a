package proxy

import (
	"context"
	"strings"
	"testing"
)

// TestPanicRecovered: a panic in a handler answers 500 with a reason in the
// route's shape, is counted, and the server keeps serving.
func TestPanicRecovered(t *testing.T) {
	panicking := Check{Name: "identity", Fn: func(context.Context) error { panic("check exploded") }}
	journal := &memJournal{panicOn: "boom-event"}
	ts := newTestServer(t, Options{Checks: []Check{panicking}}, journal, nil)

	r := ts.do("GET", "/readyz", "")
	if r.status != 500 || r.body != `{"error":"internal error"}` {
		t.Fatalf("native panic: %d %s", r.status, r.body)
	}
	r = ts.do("POST", "/batch/", `{"api_key":"phc_test","batch":[{"event":"boom-event","distinct_id":"d1","properties":{}}]}`,
		"Content-Type: application/json")
	if r.status != 500 || r.body != `{"type":"server_error","code":"internal_error","detail":"internal error"}` {
		t.Fatalf("capture panic: %d %s", r.status, r.body)
	}
	if strings.Contains(r.body, "boom") {
		t.Fatalf("panic value leaked: %s", r.body)
	}
	if got := ts.metric("hogsend_panics_total"); got != 2 {
		t.Fatalf("hogsend_panics_total = %v, want 2", got)
	}
	if r := ts.do("GET", "/healthz", ""); r.status != 200 {
		t.Fatalf("healthz after panics: %d %s", r.status, r.body)
	}
	r = ts.do("POST", "/batch/", `{"api_key":"phc_test","batch":[{"event":"fine","distinct_id":"d1","properties":{}}]}`,
		"Content-Type: application/json")
	if r.status != 200 || journal.count() != 1 {
		t.Fatalf("capture after panics: %d %s, journal %d entries", r.status, r.body, journal.count())
	}
}
