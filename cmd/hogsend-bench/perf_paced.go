package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// The half-peak loads: after each throughput run, a steady load at half
// the rate it sustained (halfPeakRate), for as long, whose latency is the edge's at a
// load it can carry (docs/operations.md § Edge benchmarks).

// halfPeakRate is half the rate the stack sustained in a run: the events
// acknowledged over the run and the time storage then took to catch up
// with them. The spool lets the proxy acknowledge faster than storage
// writes for a while (embedded mode's chDB on /batch/ took as long again
// to catch up as the run lasted); half of that rate would be a load the
// stack does not carry. With storage keeping up, the drain is short and
// this is half the acknowledged rate.
func halfPeakRate(res *loadResult, drain time.Duration) float64 {
	return float64(res.acked) / (res.elapsed + drain).Seconds() / 2
}

// halfPeak is what a half-peak load measured.
type halfPeak struct {
	rate     int // asked, events a second
	res      *loadResult
	peakRSS  int64
	proxy    routeLatency // the proxy's own histogram of the load's requests
	proxyErr error
}

// newPerfEventLoad mints an ingest key on st and returns the events load
// against it, every contact introduced first when o asks for known people.
func newPerfEventLoad(st *stack, o perfOptions) (*eventLoad, error) {
	key, err := mintKey(st.base, "bench-admin-key")
	if err != nil {
		return nil, err
	}
	load := &eventLoad{addr: st.addr, key: key, conns: o.conns, contacts: o.contacts}
	if o.knownPeople {
		res, err := load.introduce()
		if err != nil {
			return nil, err
		}
		fmt.Printf("  known people:     every contact's first event sent first (%d in %.1fs)\n", res.acked, res.elapsed.Seconds())
	}
	return load, nil
}

// paceEvents drives POST /v1/events of l at rate events a second for d,
// each a contact drawn at random.
func paceEvents(l *eventLoad, rate int, d time.Duration) *loadResult {
	auth := "Bearer " + l.key
	rngs := make([]*rand.Rand, l.conns)
	bodies := make([][]byte, l.conns)
	for w := range rngs {
		rngs[w] = rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
	}
	stop := make(chan struct{})
	time.AfterFunc(d, func() { close(stop) })
	return pace(l.addr, l.conns, max(1, rate), stop, func(w int, n int64, req *fasthttp.Request) (int64, int) {
		body := append(bodies[w][:0], `{"name":"page.viewed","email":"user`...)
		body = strconv.AppendInt(body, int64(rngs[w].IntN(l.contacts)), 10)
		body = append(body, `@bench.example","eventProperties":{"path":"/pricing","paced":`...)
		body = strconv.AppendInt(body, n, 10)
		bodies[w] = append(body, `}}`...)
		l.eventRequest(req, auth, bodies[w])
		return 1, fasthttp.StatusAccepted
	})
}

// paceBatch sends bodies in order, each once, as POST /batch/ of l at rate
// requests a second for d; bodies holds at least rate×d of them
// (enoughBodies).
func paceBatch(l *batchLoad, bodies [][]byte, rate int, d time.Duration) *loadResult {
	uri := "http://" + l.addr + "/batch/"
	stop := make(chan struct{})
	time.AfterFunc(d, func() { close(stop) })
	return pace(l.addr, l.conns, max(1, rate), stop, func(_ int, n int64, req *fasthttp.Request) (int64, int) {
		req.SetRequestURI(uri)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType("text/plain")
		req.SetBodyRaw(bodies[n%int64(len(bodies))]) // enoughBodies leaves n below len
		return int64(l.events), fasthttp.StatusOK
	})
}

// enoughBodies is the bodies not sent yet (from next on) followed, when
// they are fewer than a paced load of rate requests a second for d sends,
// by new ones of shape: uuids are deduplicated, so none is sent twice.
func enoughBodies(bodies [][]byte, next, rate int, d time.Duration, shape batchShape, perBody, contacts int) [][]byte {
	left := bodies[min(next, len(bodies)):]
	// Each worker of pace may hold one request past the deadline.
	want := int(float64(rate)*d.Seconds()) + 256
	if len(left) >= want {
		return left
	}
	fmt.Printf("  building %d more bodies for the half-peak load …\n", want-len(left))
	extra := buildBatchBodies(want-len(left), perBody, contacts, shape)
	return append(append(make([][]byte, 0, want), left...), extra...)
}

// measureHalfPeak runs drive, a paced load at rate events a second of
// route, and samples the proxy's RSS and reads its request durations
// meanwhile.
func measureHalfPeak(st *stack, route string, rate int, drive func() *loadResult) *halfPeak {
	before, errBefore := readRouteLatency(st.base, route)
	stop := watchPeakRSS(st.proxyPID)
	res := drive()
	h := &halfPeak{rate: rate, res: res, peakRSS: stop()}
	after, errAfter := readRouteLatency(st.base, route)
	h.proxy, h.proxyErr = after.since(before), errors.Join(errBefore, errAfter)
	return h
}

// print prints the half-peak load's latency beside goal.
func (h *halfPeak) print(d, goal time.Duration) {
	fmt.Printf("  half peak:        %d events/s paced for %s: %.0f/s acknowledged, p50 %s  p99 %s (goal p99 ≤ %s), %d errors\n",
		h.rate, d, float64(h.res.acked)/h.res.elapsed.Seconds(), h.res.p(0.50), h.res.p(0.99), goal, h.res.errors)
	if h.proxyErr != nil {
		fmt.Printf("  proxy's own:      %v\n", h.proxyErr)
		return
	}
	fmt.Printf("  proxy's own:      p50 %s  p99 %s  p99.9 %s (handler start to answer, by its histogram's buckets)\n",
		h.proxy.upTo(0.50), h.proxy.upTo(0.99), h.proxy.upTo(0.999))
}
