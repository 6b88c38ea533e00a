package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// discardJournal makes appends free, so that the benchmark measures decode
// and translation.
type discardJournal struct{}

func (discardJournal) Append(context.Context, []byte) error { return nil }

// captureBodies are gzip /batch/ bodies of n posthog-js-shaped $pageviews
// (as make bench sends them: 30 properties, one visitor a body, every uuid
// distinct), alternately identified and personless visitors.
func captureBodies(b *testing.B, bodies, n int) [][]byte {
	out := make([][]byte, bodies)
	var js bytes.Buffer
	for i := range out {
		js.Reset()
		identified := i%2 == 0
		js.WriteString(`{"api_key":"phc_bench","sent_at":"2026-11-27T10:00:00.000Z","batch":[`)
		for e := 0; e < n; e++ {
			if e > 0 {
				js.WriteByte(',')
			}
			fmt.Fprintf(&js, `{"uuid":"%s","event":"$pageview","timestamp":"2026-11-27T09:59:59.%03dZ","properties":{"token":"phc_bench","distinct_id":"visitor-%d","$process_person_profile":%t,"$current_url":"https://app.example/pricing?i=%d","$host":"app.example","$pathname":"/pricing","$browser":"Chrome","$browser_version":131,"$os":"Mac OS X","$os_version":"15.1","$device_type":"Desktop","$screen_height":1117,"$screen_width":1728,"$viewport_height":959,"$viewport_width":1728,"$lib":"web","$lib_version":"1.449.2","$insert_id":"%d","$time":1795000000,"$session_id":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","$window_id":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a6c","$pageview_id":"%d","$referrer":"$direct","$referring_domain":"$direct","$is_identified":%t,"$device_id":"0193a1b2-0000-7000-8000-%012d","title":"Pricing"}}`,
				uuid.Must(uuid.NewV7()), e, i, identified, e, e, e, identified, i)
		}
		js.WriteString(`]}`)
		out[i] = gzipBytes(js.Bytes())
	}
	return out
}

// BenchmarkCaptureGzipBatch50 is a /batch/ request through decode, parse,
// identity (the in-process store) and encoding for the spool: everything
// the proxy does per request but the network, Redis and the fsync.
func BenchmarkCaptureGzipBatch50(b *testing.B) {
	const n, bodies = 50, 64
	// As the binary runs (cmd/hogsend-proxy enables it at start).
	uuid.EnableRandPool()
	reqs := captureBodies(b, bodies, n)
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	newIngestor := func() *Ingestor {
		return New(identity.NewMemory(), discardJournal{}, Options{Now: func() time.Time { return now }})
	}
	in := newIngestor()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i > 0 && i%bodies == 0 {
			// A fresh store: the uuids of the bodies are new again.
			b.StopTimer()
			in.Close()
			in = newIngestor()
			b.StartTimer()
		}
		res, err := in.Capture(context.Background(), CaptureRequest{Path: "/batch/", ContentType: "text/plain", Body: reqs[i%bodies]}, CaptureOptions{})
		if err != nil || res.Stored != n {
			b.Fatalf("stored %d: %v", res.Stored, err)
		}
	}
	b.StopTimer()
	in.Close()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}

// countingJournal counts the bytes appended.
type countingJournal struct{ bytes int64 }

func (j *countingJournal) Append(_ context.Context, p []byte) error {
	j.bytes += int64(len(p))
	return nil
}

// BenchmarkCaptureOnePersonManySets is a /batch/ request of one person's
// events, each $set-ting a property of its own: the contact grows with every
// event. It reports the bytes the request appends to the spool
// (journal-B/op) besides the allocations.
func BenchmarkCaptureOnePersonManySets(b *testing.B) {
	const n = 100
	pad := bytes.Repeat([]byte("v"), 8192)
	var js bytes.Buffer
	js.WriteString(`{"api_key":"phc_bench","batch":[`)
	for e := 0; e < n; e++ {
		if e > 0 {
			js.WriteByte(',')
		}
		fmt.Fprintf(&js, `{"event":"e","distinct_id":"grower","properties":{"$set":{"k%d":"%s"}}}`, e, pad)
	}
	js.WriteString(`]}`)
	body := js.Bytes()
	j := &countingJournal{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		in := New(identity.NewMemory(), j, Options{})
		b.StartTimer()
		if _, err := in.Capture(context.Background(), CaptureRequest{Path: "/batch/", ContentType: "application/json", Body: body}, CaptureOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		in.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(j.bytes)/float64(b.N), "journal-B/op")
}

// gzipBytes is p gzip-compressed, as a client sends a /batch/ body.
func gzipBytes(p []byte) []byte {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(p)
	zw.Close()
	return gz.Bytes()
}
