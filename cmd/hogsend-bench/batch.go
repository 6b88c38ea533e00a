package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/valyala/fasthttp"
)

// batchLoad drives POST /batch/ with gzip bodies of 50 posthog-js-shaped
// events, the way posthog-js sends them (text/plain, no compression hint).
// Bodies are built before the proxy starts, each event with its own uuid, so
// generating them costs the measured system nothing.
type batchLoad struct {
	addr   string
	conns  int
	bodies [][]byte
	events int // per body
	// wrap sends the bodies again once all were sent (for the bare handler,
	// which stores nothing); otherwise each is sent once.
	wrap bool
	// progress is the /metrics counter that moves once the target has
	// handled a body; default the proxy's spool appends.
	progress string
}

// progressMetric is the counter wrk's driver watches for its first body.
func (l *batchLoad) progressMetric() string {
	if l.progress == "" {
		return "hogsend_spool_appends_total"
	}
	return l.progress
}

// batchShape is who the events of one /batch/ body are about.
type batchShape int

const (
	// browserFlush: one visitor's events, as posthog-js flushes them.
	browserFlush batchShape = iota
	// serverFlush: each event a different person, as a server SDK
	// (posthog-node, posthog-go) flushes the events of many users.
	serverFlush
)

func (s batchShape) String() string {
	if s == serverFlush {
		return "50 events of 50 people (a server SDK's flush)"
	}
	return "50 events of one person (a browser's flush)"
}

// buildBatchBodies makes n bodies of perBody events for people drawn from
// contacts distinct ids. In a browser's flush half the visitors are
// anonymous and personless, as posthog-js sends for visitors who have not
// identified; in a server SDK's every event is an identified person's.
func buildBatchBodies(n, perBody, contacts int, shape batchShape) [][]byte {
	return gzipBodiesInParallel(n, func(i int, js *bytes.Buffer) {
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		writeBatchHeader(js, time.Now().UTC().Format(time.RFC3339Nano))
		person := rng.IntN(contacts)
		for e := 0; e < perBody; e++ {
			if e > 0 {
				js.WriteByte(',')
			}
			if shape == serverFlush && e > 0 {
				person = rng.IntN(contacts)
			}
			writeVisitorEvent(js, person, e, shape.anonymous(person))
		}
		js.WriteString(`]}`)
	})
}

func (l *batchLoad) run(d time.Duration, next *atomic.Int64) (*loadResult, error) {
	return driveHTTP(l.addr, l.conns, d, func(_, _ int, req *fasthttp.Request) (int64, int, bool) {
		i := next.Add(1) - 1
		if l.wrap {
			i %= int64(len(l.bodies))
		} else if int(i) >= len(l.bodies) {
			return 0, 0, false // every body sent once: no uuid is sent twice
		}
		req.SetRequestURI("http://" + l.addr + "/batch/")
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType("text/plain")
		req.SetBodyRaw(l.bodies[i])
		return int64(l.events), fasthttp.StatusOK, true
	}), nil
}

// anonymous reports whether person's events are a personless visitor's: in
// a browser's flush half the visitors have not identified; a server SDK
// sends for signed-in users, so every event has a person.
func (s batchShape) anonymous(person int) bool { return s == browserFlush && person%2 == 0 }

// writeBatchHeader starts a /batch/ body sent at now: the project token,
// sent_at, and the opening of the batch array.
func writeBatchHeader(js *bytes.Buffer, now string) {
	fmt.Fprintf(js, `{"api_key":"phc_bench","sent_at":"%s","batch":[`, now)
}

// writeVisitorEvent appends the e-th posthog-js-shaped $pageview of a body,
// of visitor person, with a uuid of its own.
func writeVisitorEvent(js *bytes.Buffer, person, e int, anonymous bool) {
	id := uuid.Must(uuid.NewV7())
	fmt.Fprintf(js, `{"uuid":"%s","event":"$pageview","timestamp":"%s","properties":{"token":"phc_bench","distinct_id":"visitor-%d","$process_person_profile":%t,"$current_url":"https://app.example/pricing?i=%d","$host":"app.example","$pathname":"/pricing","$browser":"Chrome","$browser_version":131,"$os":"Mac OS X","$os_version":"15.1","$device_type":"Desktop","$screen_height":1117,"$screen_width":1728,"$viewport_height":959,"$viewport_width":1728,"$lib":"web","$lib_version":"1.449.2","$insert_id":"%d","$time":%d,"$session_id":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","$window_id":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a6c","$pageview_id":"%s","$referrer":"$direct","$referring_domain":"$direct","$is_identified":%t,"$device_id":"0193a1b2-0000-7000-8000-%012d","$sdk_debug_replay_internal_buffer_length":0,"title":"Pricing"}}`,
		id, time.Now().UTC().Format(time.RFC3339Nano), person, !anonymous, e, e, time.Now().Unix(), id, !anonymous, person)
}
