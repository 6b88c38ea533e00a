package fakeposthog

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
)

// BenchmarkBatchGzip posts posthog-node-shaped gzip /batch/ requests of 100
// events over HTTP, as a mirror does, with the request log off.
func BenchmarkBatchGzip(b *testing.B) {
	for _, lean := range []bool{false, true} {
		b.Run(fmt.Sprintf("NoEventLog=%v", lean), func(b *testing.B) {
			benchmarkBatches(b, Options{NoRequestLog: true, NoEventLog: lean})
		})
	}
}

func benchmarkBatches(b *testing.B, opts Options) {
	s := start(b, opts)
	const bodies, perBatch = 512, 100
	pool := make([][]byte, bodies)
	for i := range pool {
		pool[i] = gz(b, nodeBatch(b, i*perBatch, (i+1)*perBatch))
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var next atomic.Int64
	b.SetBytes(int64(len(pool[0])))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := pool[next.Add(1)%bodies]
			if err := postBatch(client, s.URL(), body); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
	b.ReportMetric(float64(b.N*perBatch)/b.Elapsed().Seconds(), "events/s")
	if s.Batches().Refused != 0 {
		b.Fatalf("refused %d batches", s.Batches().Refused)
	}
}

func postBatch(client *http.Client, base string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, base+"/batch/", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("post batch: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("post batch: status %d", resp.StatusCode)
	}
	return nil
}
