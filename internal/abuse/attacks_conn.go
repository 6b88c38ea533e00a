package abuse

import (
	"context"
	"net"
	"time"
)

var slowClient = Expect{Statuses: []int{408, 429}, CloseOK: true}

// connectionAttacks hold connections open: slow headers, slow bodies,
// bodies declared and never sent, and more connections than one address
// may have.
func connectionAttacks(t Target) []Attack {
	lim := t.Limits
	headerBound := lim.HeaderTimeout + 5*time.Second
	bodyBound := lim.HeaderTimeout + lim.ReadTimeout + 5*time.Second
	return []Attack{
		{Name: "slow-loris-headers", Group: "slow clients", run: func(ctx context.Context, t Target, src net.IP, r *Result) {
			// A header value that grows by a byte at a time, forever.
			head := []byte("POST /batch/ HTTP/1.1\r\nHost: hogsend\r\nX-Slow: ")
			fanOut(40, func(int) {
				r.record("slow headers", t.drip(ctx, src, head, 250*time.Millisecond, headerBound), slowClient)
			})
		}},
		{Name: "slow-body", Group: "slow clients", run: func(ctx context.Context, t Target, src net.IP, r *Result) {
			native := request{method: "POST", path: "/v1/events", declared: 4096,
				headers: []string{"Authorization: Bearer " + t.Key, "Content-Type: application/json"}}
			capture := request{method: "POST", path: "/batch/", declared: 4096, headers: []string{"Content-Type: application/json"}}
			fanOut(20, func(i int) {
				q := native
				if i%2 == 1 {
					q = capture
				}
				r.record("slow body "+q.path, t.drip(ctx, src, q.head(), 250*time.Millisecond, bodyBound), slowClient)
			})
		}},
		{Name: "content-length-over-limit", Group: "content-length lies", run: func(ctx context.Context, t Target, src net.IP, r *Result) {
			q := request{method: "POST", path: "/batch/", declared: max(20<<20, 2*lim.MaxBodyBytes), body: []byte(`{"api_key":`),
				headers: []string{"Content-Type: application/json"}}
			fanOut(50, func(int) {
				r.record("declared over the body limit", t.exchange(ctx, src, q, headerBound), Expect{Statuses: []int{413, 429}})
			})
		}},
		{Name: "content-length-lie", Group: "content-length lies", run: func(ctx context.Context, t Target, src net.IP, r *Result) {
			// Just under the body limit, a few bytes sent, 400 connections
			// from eight addresses so that the per-IP limit is not what
			// stops it.
			q := request{method: "POST", path: "/batch/", declared: lim.MaxBodyBytes - 1024, body: []byte(`{"api_key":`),
				headers: []string{"Content-Type: application/json"}}
			perSource := 50
			if lim.MaxConnsPerIP > 0 {
				perSource = min(perSource, lim.MaxConnsPerIP)
			}
			fanOut(8*perSource, func(i int) {
				a := t.exchange(ctx, alias(src, i%8), q, bodyBound)
				r.record("declared under the limit, never sent", a, Expect{Statuses: []int{408, 429}, CloseOK: true})
			})
		}},
		{Name: "conns-per-ip", Group: "connection flood", run: connFlood},
	}
}

// connFlood opens twice the per-IP limit of connections from one address,
// holds them all, then asks /healthz on each: past the limit the answer is
// 429 or a close, and no more than the limit are served.
func connFlood(ctx context.Context, t Target, src net.IP, r *Result) {
	limit := t.Limits.MaxConnsPerIP
	if limit <= 0 {
		r.fail("HOGSEND_MAX_CONNS_PER_IP is off: nothing to test")
		return
	}
	conns := make([]net.Conn, 2*limit+10)
	fanOut(len(conns), func(i int) {
		if c, err := t.dial(ctx, src); err == nil {
			conns[i] = c
		}
	})
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	time.Sleep(200 * time.Millisecond) // every connection accepted (or refused)
	answers := make([]Answer, len(conns))
	fanOut(len(conns), func(i int) {
		if conns[i] == nil {
			answers[i] = Answer{Closed: true}
			return
		}
		answers[i] = t.onConn(ctx, conns[i], request{method: "GET", path: "/healthz", headers: []string{"Connection: keep-alive"}}, 10*time.Second)
	})
	served := 0
	for _, a := range answers {
		r.record("connection past the per-IP limit", a, Expect{Statuses: []int{200, 429}, CloseOK: true})
		if a.Status == 200 {
			served++
		}
	}
	if served > limit {
		r.fail("%d of %d connections from one address served (limit %d)", served, len(conns), limit)
	}
}
