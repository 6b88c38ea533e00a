package posthog

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchBatch builds a current-posthog-js /batch body: {api_key, batch, sent_at}
// of n events taken from the posthog-js traffic of requests_dump.jsonl
// (~30-45 properties each, distinct_id and token inside properties, offset
// instead of timestamp), each with its own uuid.
func benchBatch(b testing.TB, n int) []byte {
	text := readFixture(b, "requests_dump.jsonl")
	var events []string
	for _, raw := range strings.Split(text, "\n") {
		if !strings.Contains(raw, `"compression=gzip-js`) && !strings.Contains(raw, "gzip-js") {
			continue
		}
		var line dumpLine
		if err := json.Unmarshal([]byte(raw), &line); err != nil {
			b.Fatal(err)
		}
		for _, out := range line.Output {
			events = append(events, out.Data)
		}
	}
	if len(events) == 0 {
		b.Fatal("no posthog-js events in the dump")
	}
	var sb strings.Builder
	sb.WriteString(`{"api_key":"phc_qgUFp5wz2BjC4RsFjMGpQ3PGDrsi6Q0CG0CP4NAac0I","sent_at":"2023-09-15T09:15:05.355Z","batch":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		ev := events[i%len(events)]
		// a distinct uuid per event: replace the last 4 hex digits
		j := strings.Index(ev, `"uuid": "`) + len(`"uuid": "`)
		ev = ev[:j+32] + fmt.Sprintf("%04x", i) + ev[j+36:]
		sb.WriteString(ev)
	}
	sb.WriteString("]}")
	return []byte(sb.String())
}

func BenchmarkDecodeParseGzipBatch50(b *testing.B) {
	const n = 50
	js := benchBatch(b, n)
	body := gzipBytes(b, js)
	in := RequestInput{Path: "/i/v0/e/", ContentType: "text/plain", Body: body}
	now := time.Date(2023, 9, 15, 9, 15, 5, 0, time.UTC)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		text, err := DecodeRequest(in, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		p, err := ParsePayload(text, in.Path)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Events) != n {
			b.Fatalf("%d events", len(p.Events))
		}
		sentAt, _ := ResolveSentAt(p.SentAt, in.Query)
		for j := range p.Events {
			_ = EventTime(&p.Events[j], sentAt, now)
		}
	}
	b.StopTimer()
	reportPerEvent(b, n, len(js))
}

// BenchmarkParseBatch50 is ParsePayload alone on the decoded JSON.
func BenchmarkParseBatch50(b *testing.B) {
	const n = 50
	js := benchBatch(b, n)
	b.ReportAllocs()
	b.SetBytes(int64(len(js)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ParsePayload(js, "/batch/"); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportPerEvent(b, n, len(js))
}

// BenchmarkDecodeFormBase64 is a posthog-js sendBeacon body: a form with
// data=<base64 JSON>.
func BenchmarkDecodeFormBase64(b *testing.B) {
	js := benchBatch(b, 10)
	body := []byte("data=" + base64.StdEncoding.EncodeToString(js))
	in := RequestInput{Path: "/e/", Query: []byte("compression=base64"), ContentType: "application/x-www-form-urlencoded", Body: body}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := DecodeRequest(in, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecompressLZString(b *testing.B) {
	js := benchBatch(b, 10)
	lz := []byte(lzCompressToBase64(string(js)))
	b.ReportAllocs()
	b.SetBytes(int64(len(js)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := DecompressLZStringBase64(lz, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func reportPerEvent(b *testing.B, n, jsonBytes int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/event")
	b.ReportMetric(float64(jsonBytes)/float64(n), "json-bytes/event")
}
