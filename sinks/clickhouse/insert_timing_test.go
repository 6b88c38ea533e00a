package clickhouse

import (
	"context"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// Insert path benchmarks. Each op inserts one batch of eventsPerInsert
// events, the writer's default MaxRows; rows/s is the figure to watch.

const eventsPerInsert = 10000

func benchServer(b *testing.B) *Server {
	b.Helper()
	ch := testenv.ClickHouse(b)
	s, err := OpenServer(context.Background(), ch.ClickHouseURL("hogsend"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s
}

func reportRows(b *testing.B, rows int) {
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkServerInsertEvents(b *testing.B) {
	s := benchServer(b)
	rows := testEvents(0, eventsPerInsert)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := s.InsertEvents(ctx, rows); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, len(rows))
}

func BenchmarkServerInsertContacts(b *testing.B) {
	s := benchServer(b)
	rows := make([]canonical.Contact, eventsPerInsert)
	for i := range rows {
		e := testEvent(i)
		rows[i] = canonical.Contact{ID: e.ID, ExternalID: e.UserID, Email: e.DistinctID + "@x.io", Properties: e.Properties,
			FirstSeenAt: base, LastSeenAt: base, CreatedAt: base, UpdatedAt: base, Version: uint64(i)}
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := s.InsertContacts(ctx, rows); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, len(rows))
}

func BenchmarkEmbeddedInsertEvents(b *testing.B) {
	requireChdb(b)
	e, err := OpenEmbedded(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	if err := e.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	rows := testEvents(0, eventsPerInsert)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := e.InsertEvents(ctx, rows); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, len(rows))
}

// BenchmarkAppendEventTSV is the embedded backend's encoding cost alone.
func BenchmarkAppendEventTSV(b *testing.B) {
	rows := testEvents(0, 1000)
	buf := make([]byte, 0, 1<<20)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		buf = buf[:0]
		for i := range rows {
			buf = appendEventTSV(buf, &rows[i], true)
			buf = append(buf, '\n')
		}
		n = len(buf)
	}
	b.SetBytes(int64(n))
	reportRows(b, len(rows))
}

// BenchmarkWriterToServer is the writer's drain path: decode spool
// entries, batch, insert, commit. Each op drains 100 requests of 100 events
// (plus a contact each) appended beforehand, outside the timer, so spool
// fsyncs are not measured.
func BenchmarkWriterToServer(b *testing.B) {
	s := benchServer(b)
	sp, r := newTestSpool(b)
	const requests, per = 100, 100
	payloads := make([][]byte, requests)
	for i := range payloads {
		payloads[i] = encodeBatch(i, per)
	}
	w := NewWriter(s, r, WriterOptions{MaxDelay: 5 * time.Millisecond, Logger: quietLogger()})
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for _, p := range payloads {
			if _, err := sp.Append(context.Background(), p); err != nil {
				b.Fatal(err)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		b.StartTimer()
		go func() { done <- w.Run(ctx) }()
		if err := w.WaitDrained(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	reportRows(b, requests*(per+1))
}
