package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/internal/fakeengine"
	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// BenchmarkHandOffDrain measures the delivery of a backlog (what an engine
// outage leaves) to the fake engine on loopback: records/s and the CPU of
// the whole process (hand-off and fake together) per record.
func BenchmarkHandOffDrain(b *testing.B) {
	sp, err := spool.Open(spool.Options{Dir: b.TempDir(), Consumers: []string{SpoolConsumer}})
	if err != nil {
		b.Fatal(err)
	}
	defer sp.Close()
	eng, err := fakeengine.New(fakeengine.Options{NoRequestLog: true})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	client, err := NewClient(ClientOptions{URL: eng.URL(), APIKey: eng.MintKey("ingest")})
	if err != nil {
		b.Fatal(err)
	}
	n := max(b.N, 1000)
	now := time.Now().UnixMilli()
	for i := range n {
		ev := canonical.Event{ID: uuid.Must(uuid.NewV7()), Name: "bench", UserID: fmt.Sprintf("u%d", i%5000),
			ContactID: uuid.Must(uuid.NewV7()), Properties: []byte(`{"plan":"pro","n":1}`), Groups: []byte(`{}`),
			Source: "api", OccurredAt: now, ReceivedAt: now}
		batch := canonical.Batch{Events: []canonical.Event{ev}, Calls: []canonical.EngineCall{{ID: ev.ID, Kind: canonical.CallEvent,
			ContactID: ev.ContactID, Body: []byte(fmt.Sprintf(`{"userId":%q}`, ev.UserID))}}}
		if _, err := sp.Append(context.Background(), canonical.AppendBatch(nil, &batch)); err != nil {
			b.Fatal(err)
		}
	}
	r, err := sp.Reader(SpoolConsumer)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	h := New(r, Options{Client: client, DeadLetters: &memDeadLetters{}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	b.ResetTimer()
	start := time.Now()
	go func() { done <- h.Run(ctx) }()
	for h.Delivered() < uint64(n) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	<-done
	b.ReportMetric(float64(n)/elapsed.Seconds(), "records/s")
}
