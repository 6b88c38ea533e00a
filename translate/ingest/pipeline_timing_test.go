package ingest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/native"
)

// The decode+translate benchmarks measure what the proxy does to one
// request's bytes besides identity and durability: decode, validate, build
// the resolve ops, then (after the resolve, which runs with the timer and
// the allocation count stopped, on the in-process store) build the records
// and encode them as the spool entry. They report allocs/event and ns/event
// (docs/architecture.md § Allocations).

// benchContacts is how many people the bench bodies are about.
const benchContacts = 1000

// nativeBenchBodies are POST /v1/events bodies as make bench's load generator
// sends them, with contact properties besides.
func nativeBenchBodies(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, n)
	for i := range out {
		b := append([]byte(nil), `{"name":"page.viewed","email":"user`...)
		b = strconv.AppendInt(b, int64(rng.IntN(benchContacts)), 10)
		b = append(b, `@bench.example","eventProperties":{"path":"/pricing","n":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		out[i] = append(b, `},"contactProperties":{"plan":"pro","seats":3}}`...)
	}
	return out
}

// BenchmarkDecodeTranslateNativeEvent is POST /v1/events, one event a
// request, for people already known.
func BenchmarkDecodeTranslateNativeEvent(b *testing.B) {
	uuid.EnableRandPool()
	in := New(identity.NewMemory(), discardJournal{}, Options{IdempotencyWindow: time.Hour})
	defer in.Close()
	bodies := nativeBenchBodies(4096)
	var limits native.Limits
	m := &stageMeter{b: b}
	track := func(body []byte, buf []byte) []byte {
		e, err := limits.ParseEvent(body, true, "")
		if err != nil {
			b.Fatal(err)
		}
		received := in.now().UnixMilli()
		r := new(eventRecords)
		op := in.eventOp(&e, r, "api", received, false)
		m.pause()
		r.res, err = in.resolve(op)
		m.start()
		if err != nil {
			b.Fatal(err)
		}
		w, out := in.eventWrite(&e, &op, r, "api", received, false)
		if !out.Stored {
			b.Fatal("event not stored")
		}
		return canonical.AppendBatch(buf, &w.batch)
	}
	buf := make([]byte, 0, 4096)
	for _, body := range bodies { // every person known, as in a steady stream
		buf = track(body, buf[:0])
	}
	b.ReportAllocs()
	b.ResetTimer()
	m.mallocs = 0
	m.start()
	for i := 0; i < b.N; i++ {
		buf = track(bodies[i%len(bodies)], buf[:0])
	}
	m.pause()
	m.report(1)
}

// batchShape is who the events of one /batch/ body are about.
type batchShape int

const (
	// browserFlush: one visitor's events, as posthog-js flushes them; half
	// the visitors are anonymous and personless.
	browserFlush batchShape = iota
	// serverFlush: each event a different identified person, as a server
	// SDK flushes the events of many users.
	serverFlush
)

// shapedBatchBodies are gzip /batch/ bodies of n posthog-js-shaped
// $pageviews each, as make bench sends them, every uuid distinct.
func shapedBatchBodies(bodies, n int, shape batchShape) [][]byte {
	rng := rand.New(rand.NewPCG(3, 4))
	out := make([][]byte, bodies)
	var js bytes.Buffer
	for i := range out {
		js.Reset()
		person := rng.IntN(benchContacts)
		js.WriteString(`{"api_key":"phc_bench","sent_at":"2026-11-27T10:00:00.000Z","batch":[`)
		for e := 0; e < n; e++ {
			if e > 0 {
				js.WriteByte(',')
			}
			if shape == serverFlush && e > 0 {
				person = rng.IntN(benchContacts)
			}
			identified := shape == serverFlush || person%2 == 1
			id := uuid.Must(uuid.NewV7())
			fmt.Fprintf(&js, `{"uuid":"%s","event":"$pageview","timestamp":"2026-11-27T09:59:59.%03dZ","properties":{"token":"phc_bench","distinct_id":"visitor-%d","$process_person_profile":%t,"$current_url":"https://app.example/pricing?i=%d","$host":"app.example","$pathname":"/pricing","$browser":"Chrome","$browser_version":131,"$os":"Mac OS X","$os_version":"15.1","$device_type":"Desktop","$screen_height":1117,"$screen_width":1728,"$viewport_height":959,"$viewport_width":1728,"$lib":"web","$lib_version":"1.449.2","$insert_id":"%d","$time":1795000000,"$session_id":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","$window_id":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a6c","$pageview_id":"%s","$referrer":"$direct","$referring_domain":"$direct","$is_identified":%t,"$device_id":"0193a1b2-0000-7000-8000-%012d","$sdk_debug_replay_internal_buffer_length":0,"title":"Pricing"}}`,
				id, e, person, identified, e, e, id, identified, person)
		}
		js.WriteString(`]}`)
		out[i] = gzipBytes(js.Bytes())
	}
	return out
}

// BenchmarkDecodeTranslateBatchOnePerson is /batch/, gzip, 50 events of one
// person (a browser's flush).
func BenchmarkDecodeTranslateBatchOnePerson(b *testing.B) {
	benchmarkDecodeTranslateBatch(b, browserFlush)
}

// BenchmarkDecodeTranslateBatchManyPeople is /batch/, gzip, 50 events of 50
// people (a server SDK's flush).
func BenchmarkDecodeTranslateBatchManyPeople(b *testing.B) {
	benchmarkDecodeTranslateBatch(b, serverFlush)
}

func benchmarkDecodeTranslateBatch(b *testing.B, shape batchShape) {
	const n, bodies = 50, 64
	uuid.EnableRandPool()
	reqs := shapedBatchBodies(bodies, n, shape)
	newIngestor := func() *Ingestor {
		return New(identity.NewMemory(), discardJournal{}, Options{IdempotencyWindow: time.Hour})
	}
	in := newIngestor()
	buf := make([]byte, 0, 64<<10)
	m := &stageMeter{b: b}
	b.ReportAllocs()
	b.ResetTimer()
	m.start()
	for i := 0; i < b.N; i++ {
		if i > 0 && i%bodies == 0 {
			// A fresh store: the uuids of the bodies are new again.
			m.pause()
			in.Close()
			in = newIngestor()
			m.start()
		}
		req := CaptureRequest{Path: "/batch/", ContentType: "text/plain", Body: reqs[i%bodies]}
		buf = decodeTranslateCapture(m, in, &req, buf[:0])
	}
	m.pause()
	in.Close()
	m.report(n)
}

// decodeTranslateCapture runs Capture's stages but its resolve (timer
// stopped) and its journal append, and returns the encoded entry.
func decodeTranslateCapture(m *stageMeter, in *Ingestor, req *CaptureRequest, buf []byte) []byte {
	b := m.b
	c, err := in.readCapture(req, CaptureOptions{})
	if err != nil {
		b.Fatal(err)
	}
	in.planPersonOps(&c)
	c.claimUnderOneTicket()
	m.pause()
	err = in.resolveCapture(context.Background(), &c)
	m.start()
	if err != nil {
		b.Fatal(err)
	}
	w := in.captureWrite(&c)
	if c.out.Stored != len(c.payload.Events) {
		b.Fatalf("stored %d of %d", c.out.Stored, len(c.payload.Events))
	}
	buf = canonical.AppendBatch(buf, &w.batch)
	in.recycleRawEvents(c.payload.Events)
	return buf
}

// stageMeter pauses a benchmark's timer around a stage that is not
// measured and counts the allocations of the measured ones.
type stageMeter struct {
	b       *testing.B
	mallocs uint64
	from    uint64
	ms      runtime.MemStats
}

// start (re)starts the timer and the count.
func (m *stageMeter) start() {
	runtime.ReadMemStats(&m.ms)
	m.from = m.ms.Mallocs
	m.b.StartTimer()
}

// pause stops the timer and the count.
func (m *stageMeter) pause() {
	m.b.StopTimer()
	runtime.ReadMemStats(&m.ms)
	m.mallocs += m.ms.Mallocs - m.from
}

// report gives allocs/event and ns/event for n events an iteration.
func (m *stageMeter) report(n int) {
	events := float64(m.b.N * n)
	m.b.ReportMetric(float64(m.b.Elapsed().Nanoseconds())/events, "ns/event")
	m.b.ReportMetric(float64(m.mallocs)/events, "allocs/event")
}

// BenchmarkTrackEventWhole is BenchmarkDecodeTranslateNativeEvent with the
// rest of TrackEvent counted too: the coalescer, the in-process store's
// resolve and the commit to a journal that keeps nothing.
func BenchmarkTrackEventWhole(b *testing.B) {
	uuid.EnableRandPool()
	in := New(identity.NewMemory(), discardJournal{}, Options{IdempotencyWindow: time.Hour})
	defer in.Close()
	bodies := nativeBenchBodies(4096)
	var limits native.Limits
	track := func(body []byte) {
		e, err := limits.ParseEvent(body, true, "")
		if err != nil {
			b.Fatal(err)
		}
		if res, err := in.TrackEvent(context.Background(), e, "api", false); err != nil || !res.Stored {
			b.Fatalf("stored %v: %v", res.Stored, err)
		}
	}
	for _, body := range bodies {
		track(body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		track(bodies[i%len(bodies)])
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
}
