package proxy

import (
	"io"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const captureBody = `{"api_key":"phc_test","batch":[{"event":"e","distinct_id":"d1","properties":{}}]}`

// TestBodyTooLargeBeforeReading: a declared length over the limit is refused
// with 413 and a reason at once, without a byte of the body sent, in the
// route's shape.
func TestBodyTooLargeBeforeReading(t *testing.T) {
	ts := newTestServer(t, Options{MaxBodyBytes: 1 << 20}, nil, nil)
	f := func(path, want string) {
		t.Helper()
		c := ts.conn()
		io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 30000000\r\n\r\n")
		r, err := readReply(c, 5*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if r.status != 413 || r.body != want {
			t.Fatalf("%s: %d %v %s", path, r.status, r.header, r.body)
		}
	}
	f("/v1/events", `{"error":"request body too large"}`)
	f("/batch/", `{"type":"validation_error","code":"body_too_large","detail":"request body too large"}`)
	// A client that writes the whole refused body still reads the answer:
	// the connection is drained, not reset under it.
	c := ts.conn()
	go io.WriteString(c, request("POST", "/v1/events", strings.Repeat("a", 1500<<10), "Content-Type: application/json"))
	if r, err := readReply(c, 5*time.Second); err != nil || r.status != 413 {
		t.Fatalf("refused body written in full: %v %d %s", err, r.status, r.body)
	}
	if got := ts.metric(`hogsend_edge_refused_total{reason="body_too_large"}`); got != 3 {
		t.Fatalf("refused body_too_large = %v", got)
	}
}

// TestChunkedBodyBounded: a chunked body without a declared length is read
// up to the limit and refused with 413 past it; one within it is served.
func TestChunkedBodyBounded(t *testing.T) {
	ts := newTestServer(t, Options{MaxBodyBytes: 64 << 10}, nil, nil)
	chunked := func(body string) string {
		return "POST /batch/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
			strconv.FormatInt(int64(len(body)), 16) + "\r\n" + body + "\r\n0\r\n\r\n"
	}
	if r := ts.raw(chunked(captureBody)); r.status != 200 || ts.journal.count() != 1 {
		t.Fatalf("small chunked body: %d %s", r.status, r.body)
	}
	big := `{"api_key":"phc_test","batch":[{"event":"e","distinct_id":"d1","properties":{"pad":"` + strings.Repeat("a", 100<<10) + `"}}]}`
	if r := ts.raw(chunked(big)); r.status != 413 || !strings.Contains(r.body, `"code":"body_too_large"`) {
		t.Fatalf("large chunked body: %d %s", r.status, r.body)
	}
	waitFor(t, "the budget to drain", func() bool { return ts.srv.budget.inUse() == 0 })
}

// TestSlowBodyGets408: a body slower than the read timeout is answered 408
// with a reason, and the budget it held is returned.
func TestSlowBodyGets408(t *testing.T) {
	ts := newTestServer(t, Options{ReadTimeout: 300 * time.Millisecond, HeaderTimeout: 300 * time.Millisecond}, nil, nil)
	c := ts.conn()
	io.WriteString(c, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"na")
	r, err := readReply(c, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r.status != 408 || r.body != `{"error":"request timeout"}` {
		t.Fatalf("slow body: %d %s", r.status, r.body)
	}
	waitFor(t, "the budget to drain", func() bool { return ts.srv.budget.inUse() == 0 })
}

// TestContentLengthLieHeap: 40 connections each declaring a 20 MiB body and
// sending none of it cost a few KiB each, not the declared length.
func TestContentLengthLieHeap(t *testing.T) {
	ts := newTestServer(t, Options{MaxBodyBytes: 20 << 20, ReadTimeout: time.Minute, HeaderTimeout: time.Minute}, nil, nil)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 40; i++ {
		c := ts.conn()
		io.WriteString(c, "POST /batch/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20971520\r\n\r\n")
	}
	waitFor(t, "40 connections", func() bool { return ts.srv.http.GetOpenConnectionsCount() >= 40 })
	time.Sleep(200 * time.Millisecond) // their headers are read
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("40 × 20 MiB Content-Length lies: heap in use grew %d KiB, budget holds %d KiB", growth>>10, ts.srv.budget.inUse()>>10)
	if growth > 64<<20 {
		t.Fatalf("heap in use grew %d MiB for 40 lying connections", growth>>20)
	}
}

// TestBudgetFullAnswers429: when the bytes in flight fill the budget, a body
// that finds no room within the wait is answered 429 with Retry-After and a
// reason in its route's shape; once the room is back it is served.
func TestBudgetFullAnswers429(t *testing.T) {
	ts := newTestServer(t, Options{MaxBodyBytes: 1 << 20, MaxInflightBytes: 1 << 20, InflightWait: 100 * time.Millisecond}, nil, nil)
	// A body whose first 600 KiB are in holds the whole 1 MiB budget.
	hog := ts.conn()
	io.WriteString(hog, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 900000\r\n\r\n"+strings.Repeat(" ", 600<<10))
	waitFor(t, "the budget to fill", func() bool { return ts.srv.budget.inUse() == 1<<20 })

	f := func(path, want string) {
		t.Helper()
		r := ts.do("POST", path, captureBody, "Content-Type: application/json")
		if r.status != 429 || r.header["Retry-After"] != "1" || r.body != want {
			t.Fatalf("%s with the budget full: %d %v %s", path, r.status, r.header, r.body)
		}
	}
	f("/v1/events", `{"error":"server busy: too many request bytes in flight; retry later"}`)
	f("/batch/", `{"type":"rate_limited","code":"server_busy","detail":"server busy: too many request bytes in flight; retry later"}`)
	if got := ts.metric(`hogsend_edge_refused_total{reason="server_busy"}`); got != 2 {
		t.Fatalf("refused server_busy = %v", got)
	}
	if n := ts.journal.count(); n != 0 {
		t.Fatalf("journal holds %d entries from refused requests", n)
	}

	io.WriteString(hog, strings.Repeat(" ", 900000-600<<10))
	if r, err := readReply(hog, 5*time.Second); err != nil || r.status != 401 {
		t.Fatalf("the hog's answer: %v %d %s", err, r.status, r.body)
	}
	waitFor(t, "the budget to drain", func() bool { return ts.srv.budget.inUse() == 0 })
	if r := ts.do("POST", "/batch/", captureBody, "Content-Type: application/json"); r.status != 200 || ts.journal.count() != 1 {
		t.Fatalf("after the budget drained: %d %s", r.status, r.body)
	}
}

// TestManyLargeBodiesAtOnce: 16 bodies of 1 MiB arriving together against a
// 4 MiB budget: some are refused with 429 (no room for their bytes, or, past
// heavyBytes, no heavy lane free), none is answered otherwise than served
// or 429, and every byte of budget comes back.
func TestManyLargeBodiesAtOnce(t *testing.T) {
	ts := newTestServer(t, Options{MaxBodyBytes: 2 << 20, MaxInflightBytes: 4 << 20, InflightWait: 200 * time.Millisecond}, nil, nil)
	body := `{"api_key":"phc_test","batch":[{"event":"e","distinct_id":"d1","properties":{"pad":"` + strings.Repeat("a", 1<<20) + `"}}]}`
	head := "POST /batch/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	conns := make([]net.Conn, 16)
	for i := range conns {
		conns[i] = ts.conn()
		io.WriteString(conns[i], head+body[:600<<10])
	}
	// The bodies that got room cannot end before their rest is sent, so the
	// others' wait runs out first.
	waitFor(t, "a refusal", func() bool { return ts.metric(`hogsend_edge_refused_total{reason="server_busy"}`) > 0 })
	statuses := make([]int, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, body[600<<10:]) // fails once a refused body's connection is closed
			r, err := readReply(c, 10*time.Second)
			if err != nil {
				t.Errorf("connection %d: %v", i, err)
				return
			}
			if r.status == 429 && !strings.Contains(r.body, `"code":"server_busy"`) && !strings.Contains(r.body, `"code":"heavy_busy"`) {
				t.Errorf("connection %d: 429 without its reason: %s", i, r.body)
			}
			statuses[i] = r.status
		}()
	}
	wg.Wait()
	refused := 0
	for i, s := range statuses {
		switch s {
		case 429:
			refused++
		case 200, 413:
		default:
			t.Fatalf("connection %d answered %d", i, s)
		}
	}
	t.Logf("16 × 1 MiB bodies against a 4 MiB budget: %d refused with 429", refused)
	if refused == 0 {
		t.Fatalf("no 429 with 16 MiB of bodies in flight against a 4 MiB budget: %v", statuses)
	}
	waitFor(t, "the budget to drain", func() bool { return ts.srv.budget.inUse() == 0 })
}

// TestEmptyBodyQuiet: a request declaring an empty body is served without
// fasthttp's warning about reading a whole stream into memory, which every
// such request would log.
func TestEmptyBodyQuiet(t *testing.T) {
	var log strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &log}, nil))
	ts := newTestServer(t, Options{Logger: logger}, nil, nil)
	r := ts.do("POST", "/batch/", "")
	if r.status != 400 || !strings.Contains(r.body, `"code":"empty_payload"`) {
		t.Fatalf("empty capture body: %d %s", r.status, r.body)
	}
	mu.Lock()
	defer mu.Unlock()
	if log.Len() != 0 {
		t.Fatalf("logged: %s", log.String())
	}
}

// lockedWriter serializes writes from the server's goroutines.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
