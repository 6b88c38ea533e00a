package main

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// introduce sends one POST /v1/events for each of the load's contacts, in
// turn, so that the measured load is of known people: in steady state most
// events are, and the first event of a person is the costliest (a contact
// created, a row written).
func (l *eventLoad) introduce() (*loadResult, error) {
	auth := "Bearer " + l.key
	var next atomic.Int64
	bodies := make([][]byte, l.conns)
	res := driveHTTP(l.addr, l.conns, time.Hour, func(w, _ int, req *fasthttp.Request) (int64, int, bool) {
		c := next.Add(1) - 1
		if c >= int64(l.contacts) {
			return 0, 0, false
		}
		body := append(bodies[w][:0], `{"name":"signed_in","email":"user`...)
		body = strconv.AppendInt(body, c, 10)
		bodies[w] = append(body, `@bench.example"}`...)
		l.eventRequest(req, auth, bodies[w])
		return 1, fasthttp.StatusAccepted, true
	})
	if res.errors > 0 {
		return res, fmt.Errorf("introducing %d contacts: %d errors %v", l.contacts, res.errors, res.firstErrors)
	}
	return res, nil
}

// printTouches prints how many resolves were touches of a cached contact
// (docs/redis-layout.md § 4), warm-up and known people included; nothing
// for a proxy without the series (embedded, or before touches).
func printTouches(base string) {
	fresh, err1 := metricValue(base, `hogsend_identity_touches_total{result="fresh"}`)
	stale, err2 := metricValue(base, `hogsend_identity_touches_total{result="stale"}`)
	accepted, err3 := acceptedEvents(base, "native")
	if err1 != nil || err2 != nil || err3 != nil {
		return
	}
	fmt.Printf("  touches:          %d fresh, %d stale, of %d events accepted\n", fresh, stale, accepted)
}
