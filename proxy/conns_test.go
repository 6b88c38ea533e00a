package proxy

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestConnsPerIP: past MaxConnsPerIP open connections from one address, the
// next is answered 429 with a reason and closed; a closed one frees its
// slot; a trusted proxy's connections are not limited.
func TestConnsPerIP(t *testing.T) {
	ts := newTestServer(t, Options{MaxConnsPerIP: 2}, nil, nil)
	a, b := ts.conn(), ts.conn()
	waitFor(t, "two connections served", func() bool { return ts.srv.http.GetOpenConnectionsCount() >= 2 })
	r, err := readReply(ts.conn(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r.status != 429 || r.header["Retry-After"] != "1" || r.body != `{"error":"too many connections from your address; retry later"}` {
		t.Fatalf("third connection: %d %v %s", r.status, r.header, r.body)
	}
	if got := ts.metric(`hogsend_edge_refused_total{reason="conns_per_ip"}`); got != 1 {
		t.Fatalf("refused conns_per_ip = %v", got)
	}
	// The two admitted connections serve requests, and closing one frees a slot.
	io.WriteString(a, request("GET", "/healthz", ""))
	if r, err := readReply(a, 5*time.Second); err != nil || r.status != 200 {
		t.Fatalf("admitted connection: %v %d", err, r.status)
	}
	b.Close()
	waitFor(t, "the closed connection's slot", func() bool { return ts.srv.http.GetOpenConnectionsCount() <= 1 })
	if r := ts.do("GET", "/healthz", ""); r.status != 200 {
		t.Fatalf("after a slot was freed: %d %s", r.status, r.body)
	}

	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	trusted := newTestServer(t, Options{MaxConnsPerIP: 1, TrustedProxies: []*net.IPNet{loopback}}, nil, nil)
	trusted.conn()
	trusted.conn()
	if r := trusted.do("GET", "/healthz", ""); r.status != 200 {
		t.Fatalf("third connection from a trusted proxy: %d %s", r.status, r.body)
	}
}

// TestHeaderTimeout: a client that has not sent its request line and
// headers within HOGSEND_HEADER_TIMEOUT is answered 408 and cut off, while a
// body may take the longer HOGSEND_READ_TIMEOUT once the headers are in.
func TestHeaderTimeout(t *testing.T) {
	ts := newTestServer(t, Options{HeaderTimeout: 200 * time.Millisecond, ReadTimeout: 5 * time.Second}, nil, nil)
	c := ts.conn()
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
	start := time.Now()
	r, err := readReply(c, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r.status != 408 || r.body != `{"error":"request timeout"}` {
		t.Fatalf("slow headers: %d %s", r.status, r.body)
	}
	if _, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("connection not closed after the header timeout: %v", err)
	}
	t.Logf("slow headers cut off after %s", time.Since(start).Round(time.Millisecond))
	if got := ts.metric(`hogsend_edge_refused_total{reason="read_timeout"}`); got != 1 {
		t.Fatalf("refused read_timeout = %v", got)
	}

	// A connection that sends nothing at all is cut off too.
	idle := ts.conn()
	if r, err := readReply(idle, 5*time.Second); err != nil || r.status != 408 {
		t.Fatalf("silent connection: %v %d %s", err, r.status, r.body)
	}

	// Headers in time, body after the header timeout: served.
	slow := ts.conn()
	body := `{"name":"late","userId":"u1"}`
	head, _ := strings.CutSuffix(request("POST", "/v1/events", body, "Content-Type: application/json", "Authorization: Bearer "+testAdminKey), body)
	io.WriteString(slow, head)
	time.Sleep(500 * time.Millisecond)
	io.WriteString(slow, body)
	if r, err := readReply(slow, 5*time.Second); err != nil || r.status != 202 {
		t.Fatalf("body after the header timeout: %v %d %s", err, r.status, r.body)
	}
}

// TestHeadersTooLarge: request line and headers past 64 KiB get 431 with a
// reason.
func TestHeadersTooLarge(t *testing.T) {
	ts := newTestServer(t, Options{}, nil, nil)
	r := ts.do("GET", "/healthz", "", "X-Pad: "+strings.Repeat("a", 70<<10))
	if r.status != 431 || r.body != `{"error":"request line and headers too large (at most 65536 bytes)"}` {
		t.Fatalf("large headers: %d %s", r.status, r.body)
	}
	if got := ts.metric(`hogsend_edge_refused_total{reason="headers_too_large"}`); got != 1 {
		t.Fatalf("refused headers_too_large = %v", got)
	}
	r = ts.do("GET", "/healthz?"+strings.Repeat("a", 40<<10), "", "X-Pad: "+strings.Repeat("a", 20<<10))
	if r.status != 200 {
		t.Fatalf("60 KiB of line and headers: %d %s", r.status, r.body)
	}
}
