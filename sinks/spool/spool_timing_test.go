package spool

import (
	"context"
	"log/slog"
	"testing"
)

func BenchmarkAppendParallel(b *testing.B) {
	s, err := Open(Options{Dir: b.TempDir(), Consumers: []string{"c"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	payload := payloadOf(0, 200)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	// Request handlers block on fsync, so real servers run many more
	// appenders than CPUs; model that.
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := s.Append(ctx, payload); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	st := s.Stats()
	b.ReportMetric(float64(st.Appends)/float64(st.Syncs), "appends/fsync")
}

func BenchmarkAppendSerial(b *testing.B) {
	s, err := Open(Options{Dir: b.TempDir(), Consumers: []string{"c"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	payload := payloadOf(0, 200)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Append(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReaderNext(b *testing.B) {
	s, err := Open(Options{Dir: b.TempDir(), SegmentBytes: 8 << 20, Consumers: []string{"c"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// Fill with few fsyncs: concurrent appends share group commits.
	const entries = 200_000
	payload := payloadOf(0, 200)
	errc := make(chan error, 64)
	for g := range 64 {
		go func() {
			var err error
			for i := g; i < entries && err == nil; i += 64 {
				_, err = s.Append(context.Background(), payload)
			}
			errc <- err
		}()
	}
	for range 64 {
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}

	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	var (
		r   *Reader
		buf = make([]Entry, 0, 1000)
		n   = 0
	)
	for i := 0; i < b.N; i += len(buf) {
		if n == 0 {
			// Start over at the beginning of the log.
			if r != nil {
				r.Close()
			}
			if r, err = s.Reader("c"); err != nil {
				b.Fatal(err)
			}
			n = entries
		}
		buf, err = r.Next(context.Background(), min(1000, b.N-i, n), buf)
		if err != nil {
			b.Fatal(err)
		}
		n -= len(buf)
	}
}
