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
