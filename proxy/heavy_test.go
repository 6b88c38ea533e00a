package proxy

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHeavyLanes: lanes are taken up to their number; one more waits for a
// lane to be left, or fails with errHeavyBusy after the wait.
func TestHeavyLanes(t *testing.T) {
	h := newHeavyLanes(2, 30*time.Millisecond)
	for i := range 2 {
		if err := h.enter(); err != nil {
			t.Fatalf("lane %d: %v", i, err)
		}
	}
	if err := h.enter(); !errors.Is(err, errHeavyBusy) {
		t.Fatalf("third enter: %v, want errHeavyBusy", err)
	}
	if h.busy() != 2 {
		t.Fatalf("busy %d, want 2", h.busy())
	}
	slow := newHeavyLanes(1, 5*time.Second)
	slow.enter()
	time.AfterFunc(20*time.Millisecond, slow.leave)
	if err := slow.enter(); err != nil {
		t.Fatalf("waiting for a lane to be left: %v", err)
	}
	if newHeavyLanes(0, time.Second).enter() != nil {
		t.Fatal("zero lanes must mean one")
	}
}

// TestCaptureBudgetLane: a request enters a lane only once its body and
// decoded bytes pass heavyBytes, charges every byte to its lease, and
// leaves the lane when it ends.
func TestCaptureBudgetLane(t *testing.T) {
	lanes := newHeavyLanes(1, 10*time.Millisecond)
	bytesBudget := newByteBudget(64<<20, time.Millisecond)
	first := &captureBudget{l: &lease{budget: bytesBudget}, lanes: lanes}
	if err := first.admit(heavyBytes / 2); err != nil {
		t.Fatal(err)
	}
	if err := first.Reserve(heavyBytes / 2); err != nil || lanes.busy() != 0 {
		t.Fatalf("at heavyBytes: %v, %d lanes busy, want 0", err, lanes.busy())
	}
	if err := first.Reserve(1); err != nil || lanes.busy() != 1 {
		t.Fatalf("past heavyBytes: %v, %d lanes busy, want 1", err, lanes.busy())
	}
	if err := first.Reserve(heavyBytes); err != nil || lanes.busy() != 1 {
		t.Fatalf("in its lane: %v, %d lanes busy, want 1", err, lanes.busy())
	}
	if got := bytesBudget.inUse(); got != int64(heavyBytes/2+1+heavyBytes) {
		t.Fatalf("lease holds %d, want the decoded bytes", got)
	}
	second := &captureBudget{l: &lease{budget: bytesBudget}, lanes: lanes}
	if err := second.Reserve(heavyBytes + 1); !errors.Is(err, errHeavyBusy) {
		t.Fatalf("second heavy request: %v, want errHeavyBusy", err)
	}
	first.end()
	first.end()
	if lanes.busy() != 0 {
		t.Fatalf("%d lanes busy after the request ended", lanes.busy())
	}
	if err := second.Reserve(1); err != nil || lanes.busy() != 1 {
		t.Fatalf("after the lane was left: %v, %d busy", err, lanes.busy())
	}
	second.end()
}

// TestHeavyCaptureWaitsForALane: with every lane taken, a capture whose
// payload decodes past heavyBytes is answered 429 heavy_busy with
// Retry-After, a small one is served at once, and once the lane is left
// the large one is served too.
func TestHeavyCaptureWaitsForALane(t *testing.T) {
	ts := newTestServer(t, Options{HeavyLanes: 1, InflightWait: 50 * time.Millisecond, MaxBodyBytes: 8 << 20}, nil, nil)
	large := gzipped(t, batchOf(3000))
	if len(large) > heavyBytes {
		t.Fatalf("the large body is %d bytes: it must pass heavyBytes only once decoded", len(large))
	}
	small := string(gzipped(t, batchOf(5)))
	if err := ts.srv.heavy.enter(); err != nil {
		t.Fatal(err)
	}
	r := ts.do("POST", "/batch/", string(large), "Content-Type: text/plain")
	if r.status != 429 || r.header["Retry-After"] == "" || !strings.Contains(r.body, `"code":"heavy_busy"`) {
		t.Fatalf("large payload, no lane free: %d %v %s", r.status, r.header, r.body)
	}
	if r := ts.do("POST", "/batch/", small, "Content-Type: text/plain"); r.status != 200 {
		t.Fatalf("small payload, no lane free: %d %s", r.status, r.body)
	}
	ts.srv.heavy.leave()
	if r := ts.do("POST", "/batch/", string(large), "Content-Type: text/plain"); r.status != 200 {
		t.Fatalf("large payload, a lane free: %d %s", r.status, r.body)
	}
	if ts.srv.heavy.busy() != 0 {
		t.Fatalf("%d lanes busy after the requests", ts.srv.heavy.busy())
	}
}

// batchOf is a capture batch of n events, each with its own properties.
func batchOf(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"api_key":"phc_heavy","batch":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"event":"$pageview","properties":{"distinct_id":"heavy-` + strconv.Itoa(i%50) + `","$current_url":"https://example.com/p/` +
			strconv.Itoa(i*7919) + `","n":` + strconv.Itoa(i) + `,"pad":"` + strings.Repeat("x", 300) + `"}}`)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestCaptureWarningsCounted: an accepted request's warnings (here an event
// over 1 MB, dropped as PostHog drops it) are counted on /metrics.
func TestCaptureWarningsCounted(t *testing.T) {
	ts := newTestServer(t, Options{MaxBodyBytes: 4 << 20}, nil, nil)
	body := `{"api_key":"phc_warn","batch":[{"event":"big","properties":{"distinct_id":"w1","pad":"` + strings.Repeat("p", 1_100_000) +
		`"}},{"event":"small","properties":{"distinct_id":"w1"}}]}`
	if r := ts.do("POST", "/batch/", body, "Content-Type: application/json"); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if got := ts.metric(`hogsend_capture_warnings_total{warning="event_too_large"}`); got != 1 {
		t.Fatalf("event_too_large warnings counted: %v, want 1", got)
	}
	if ts.journal.count() != 1 {
		t.Fatalf("%d records stored, want the small event's", ts.journal.count())
	}
}
