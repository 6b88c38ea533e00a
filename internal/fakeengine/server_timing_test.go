package fakeengine

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkEventsOverHTTP is the hand-off's load on the fake: keep-alive
// POST /v1/events with idempotency keys, the request log off. It reports
// requests per second; the hand-off bench needs at least 10,000.
func BenchmarkEventsOverHTTP(b *testing.B) {
	s, err := New(Options{NoRequestLog: true, Journeys: []Journey{{ID: "j", Trigger: "order.paid", ExitOn: []ExitRule{{Event: "refund"}}}}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	key := s.MintKey(ScopeIngest)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := `{"name":"order.paid","userId":"u_` + strconv.FormatInt(i%5000, 10) + `","value":10,"currency":"usd","eventProperties":{"order":` + strconv.FormatInt(i, 10) + `}}`
			req, _ := http.NewRequest("POST", s.URL()+"/v1/events", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", "evt-"+strconv.FormatInt(i, 10))
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	if got := s.ReceivedOn("POST /v1/events"); got != int64(b.N) {
		b.Fatalf("received %d, sent %d", got, b.N)
	}
}
