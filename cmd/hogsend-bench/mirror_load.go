package main

import (
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/valyala/fasthttp"
)

// capturePerBody is the events of each POST /batch/ of the outage load.
const capturePerBody = 10

// pacedCapture drives POST /batch/ at rate events a second until stop is
// closed, each event with a fresh uuid it keeps, so that the mirror's
// delivery can be checked event by event.
type pacedCapture struct {
	addr     string
	rate     int
	contacts int
	conns    int

	mu    sync.Mutex
	uuids []string
}

// run sends until stop is closed and returns what was acknowledged.
func (p *pacedCapture) run(stop <-chan struct{}) *loadResult {
	uri := "http://" + p.addr + "/batch/"
	bodies := make([][]byte, p.conns)
	return pace(p.addr, p.conns, max(1, p.rate/capturePerBody), stop, func(w int, n int64, req *fasthttp.Request) (int64, int) {
		bodies[w] = p.appendBody(bodies[w][:0], n)
		req.SetRequestURI(uri)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(bodies[w])
		return capturePerBody, fasthttp.StatusOK
	})
}

// appendBody appends the n-th request's body: capturePerBody pageviews of
// one visitor, their uuids kept.
func (p *pacedCapture) appendBody(b []byte, n int64) []byte {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	ids := make([]string, capturePerBody)
	b = append(b, `{"api_key":"`+benchToken+`","batch":[`...)
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7()).String()
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"uuid":"`+ids[i]+`","event":"$pageview","timestamp":"`+now+`","properties":{"distinct_id":"visitor-`...)
		b = strconv.AppendInt(b, n%int64(p.contacts), 10)
		b = append(b, `","$lib":"web","$current_url":"https://app.example/pricing"}}`...)
	}
	p.mu.Lock()
	p.uuids = append(p.uuids, ids...)
	p.mu.Unlock()
	return append(b, `]}`...)
}

// sentUUIDs is every uuid the load sent.
func (p *pacedCapture) sentUUIDs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.uuids...)
}
