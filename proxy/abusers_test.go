package proxy

import (
	"io"
	"net"
	"strconv"
	"testing"
	"time"
)

// TestRefusalsPenalizeTheirNetwork: past maxRefusals refused requests in a
// window, a client network gets 429 with the rest of the window as
// Retry-After, on a kept-alive connection and at accept, while another
// address is served.
func TestRefusalsPenalizeTheirNetwork(t *testing.T) {
	ts := newTestServer(t, Options{}, nil, nil)
	kept := ts.conn()
	io.WriteString(kept, request("GET", "/healthz", ""))
	if r, err := readReply(kept, 5*time.Second); err != nil || r.status != 200 {
		t.Fatalf("before: %v %d", err, r.status)
	}
	for i := range maxRefusals {
		if r := ts.do("POST", "/batch/", "not json", "Content-Type: application/json"); r.status != 400 {
			t.Fatalf("refusal %d: %d %s", i, r.status, r.body)
		}
	}
	io.WriteString(kept, request("GET", "/healthz", ""))
	r, err := readReply(kept, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	wait, _ := strconv.Atoi(r.header["Retry-After"])
	if r.status != 429 || wait < 2 || wait > 60 || r.body != `{"error":"too many refused requests from your address; retry later"}` {
		t.Fatalf("kept-alive connection: %d %v %s", r.status, r.header, r.body)
	}
	if r := ts.do("GET", "/healthz", ""); r.status != 429 || r.header["Retry-After"] != "60" {
		t.Fatalf("new connection: %d %v %s", r.status, r.header, r.body)
	}
	if got := ts.metric(`hogsend_edge_refused_total{reason="too_many_refusals"}`); got != 2 {
		t.Fatalf("refused too_many_refusals = %v, want 2", got)
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	other, err := d.Dial("tcp", ts.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	io.WriteString(other, request("GET", "/healthz", ""))
	if r, err := readReply(other, 5*time.Second); err != nil || r.status != 200 {
		t.Fatalf("another address: %v %d %s", err, r.status, r.body)
	}
}

// TestFailureThrottleFastPath: until a network reaches the bound, blocked
// answers without looking (and after the window ends, again).
func TestFailureThrottleFastPath(t *testing.T) {
	th := newFailureThrottle(2, time.Minute, 16)
	now := time.Unix(1000, 0)
	th.fail("10.0.0.1", now)
	if th.blockedUntil.Load() != 0 || th.blocked("10.0.0.1", now) != 0 {
		t.Fatal("blocked below the bound")
	}
	th.fail("10.0.0.1", now)
	if got := th.blocked("10.0.0.1", now.Add(time.Second)); got != 59*time.Second {
		t.Fatalf("blocked for %v, want 59s", got)
	}
	if th.blocked("10.0.0.2", now) != 0 || th.blocked("10.0.0.1", now.Add(time.Minute)) != 0 {
		t.Fatal("another network, or after the window, blocked")
	}
}

// TestRefusalWeight: a refused large body weighs more, but never enough
// alone to penalize its network.
func TestRefusalWeight(t *testing.T) {
	ts := newTestServer(t, Options{MaxBodyBytes: 1 << 20}, nil, nil)
	f := func(want int) {
		t.Helper()
		c := ts.conn()
		io.WriteString(c, "POST /batch/ HTTP/1.1\r\nHost: x\r\nContent-Length: 30000000\r\n\r\n")
		if r, err := readReply(c, 5*time.Second); err != nil || r.status != want {
			t.Fatalf("%v %d %s, want %d", err, r.status, r.body, want)
		}
	}
	for range maxRefusals / maxRefusalWeight {
		f(413)
	}
	f(429)
}
