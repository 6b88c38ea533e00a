package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/valyala/fasthttp"
)

// identifiedShape names the /batch/ bodies of the hand-off scenario.
const identifiedShape = "50 events of one identified person ($identify first, as posthog-js sends at login)"

// buildIdentifiedBodies makes n gzip /batch/ bodies of perBody events of one
// person each: a posthog-js $identify (the user id, the visitor's anonymous
// id and an email), then that user's pageviews. Every event is then of a
// person with a userId, so every one is handed off to the engine.
func buildIdentifiedBodies(n, perBody, contacts int) [][]byte {
	return gzipBodiesInParallel(n, func(i int, js *bytes.Buffer) {
		person := rand.New(rand.NewPCG(uint64(i), 11)).IntN(contacts)
		writeIdentifiedBatch(js, person, perBody)
	})
}

// gzipBodiesInParallel builds n bodies with write on every core, each
// gzipped; body i's content depends on i alone.
func gzipBodiesInParallel(n int, write func(i int, js *bytes.Buffer)) [][]byte {
	bodies := make([][]byte, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var js, gz bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				js.Reset()
				write(i, &js)
				gz.Reset()
				zw.Reset(&gz)
				zw.Write(js.Bytes())
				zw.Close()
				bodies[i] = bytes.Clone(gz.Bytes())
			}
		}()
	}
	wg.Wait()
	return bodies
}

// writeIdentifiedBatch writes one person's flush: $identify, then pageviews.
func writeIdentifiedBatch(js *bytes.Buffer, person, perBody int) {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	writeBatchHeader(js, now)
	for e := 0; e < perBody; e++ {
		if e > 0 {
			js.WriteByte(',')
		}
		name, extra := "$pageview", ""
		if e == 0 {
			name = "$identify"
			extra = fmt.Sprintf(`"$anon_distinct_id":"anon-%d","$set":{"email":"user%d@bench.example"},`, person, person)
		}
		fmt.Fprintf(js, `{"uuid":"%s","event":"%s","timestamp":"%s","properties":{"token":"phc_bench","distinct_id":"user-%d",%s"$current_url":"https://app.example/pricing?i=%d","$host":"app.example","$pathname":"/pricing","$browser":"Chrome","$os":"Mac OS X","$device_type":"Desktop","$lib":"web","$lib_version":"1.449.2","$session_id":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","$is_identified":true,"title":"Pricing"}}`,
			uuid.Must(uuid.NewV7()), name, now, person, extra, e)
	}
	js.WriteString(`]}`)
}

// pacedEvents drives POST /v1/events at rate events per second until
// stop is closed: a steady load whose answers do not depend on how fast
// the proxy could go. Each event carries its own seq, so that an event
// stored twice at the engine shows.
type pacedEvents struct {
	addr, key string
	rate      int
	contacts  int
	conns     int
}

// outageEventName names the events of the outage load.
const outageEventName = "handoff.outage"

// run sends until stop is closed and returns what was acknowledged.
func (p *pacedEvents) run(stop <-chan struct{}) *loadResult {
	auth := "Bearer " + p.key
	uri := "http://" + p.addr + "/v1/events"
	bodies := make([][]byte, p.conns)
	return pace(p.addr, p.conns, p.rate, stop, func(w int, n int64, req *fasthttp.Request) (int64, int) {
		body := append(bodies[w][:0], `{"name":"`+outageEventName+`","email":"user`...)
		body = strconv.AppendInt(body, n%int64(p.contacts), 10)
		body = append(body, `@bench.example","eventProperties":{"seq":`...)
		body = strconv.AppendInt(body, n, 10)
		bodies[w] = append(body, `}}`...)
		req.SetRequestURI(uri)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType("application/json")
		req.Header.Set("Authorization", auth)
		req.SetBodyRaw(bodies[w])
		return 1, fasthttp.StatusAccepted
	})
}

// benchCPU is this process's own CPU so far (the fake engine, the Go load
// generator and the metric reads; not wrk, a child).
func benchCPU() time.Duration {
	d, _ := statCPU("/proc/self/stat", 2)
	return d
}
