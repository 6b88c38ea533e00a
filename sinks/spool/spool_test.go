package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// logCapture collects log output written concurrently by the spool.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logCapture) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logCapture) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logCapture) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// openTest opens a spool in dir (a fresh temp dir when empty) and closes it
// at the end of the test.
func openTest(t testing.TB, opts Options) (*Spool, *logCapture) {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	logs := &logCapture{}
	if opts.Logger == nil {
		opts.Logger = logs.logger()
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, logs
}

func mustAppend(t testing.TB, s *Spool, payload []byte) Position {
	t.Helper()
	pos, err := s.Append(context.Background(), payload)
	if err != nil {
		t.Fatalf("Append(%q): %v", payload, err)
	}
	return pos
}

func payloadOf(i, size int) []byte {
	p := fmt.Appendf(nil, "entry-%06d|", i)
	for len(p) < size {
		p = append(p, byte('a'+i%26))
	}
	return p
}

// readN reads exactly n entries, copying their data.
func readN(t testing.TB, r *Reader, n int) []Entry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var (
		out []Entry
		buf []Entry
		err error
	)
	for len(out) < n {
		buf, err = r.Next(ctx, n-len(out), buf)
		if err != nil {
			t.Fatalf("Next after %d of %d entries: %v", len(out), n, err)
		}
		for _, e := range buf {
			out = append(out, Entry{Pos: e.Pos, Data: bytes.Clone(e.Data)})
		}
	}
	return out
}

// assertNothingMore checks that Next has no entry to return right now.
func assertNothingMore(t testing.TB, r *Reader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	got, err := r.Next(ctx, 10, nil)
	if !errors.Is(err, context.DeadlineExceeded) || len(got) != 0 {
		t.Fatalf("Next = %d entries, %v; want none and DeadlineExceeded", len(got), err)
	}
}

func frameBytes(payloadLen int) int64 { return int64(frameHeaderSize + payloadLen) }

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestAppendReadRoundTrip(t *testing.T) {
	s, _ := openTest(t, Options{Consumers: []string{"c"}})
	const n = 100
	var (
		want      []Position
		wantBytes = int64(segmentHeaderSize)
	)
	for i := range n {
		p := payloadOf(i, 1+i*7)
		pos := mustAppend(t, s, p)
		wantBytes += frameBytes(len(p))
		if pos != (Position{1, wantBytes}) {
			t.Fatalf("Append #%d at %v, want %v", i, pos, Position{1, wantBytes})
		}
		want = append(want, pos)
	}
	if got := s.Bytes(); got != wantBytes {
		t.Fatalf("Bytes = %d, want %d", got, wantBytes)
	}
	r, err := s.Reader("c")
	if err != nil {
		t.Fatal(err)
	}
	if got, wantBacklog := r.Backlog(), wantBytes-segmentHeaderSize; got != wantBacklog {
		t.Fatalf("Backlog = %d, want %d", got, wantBacklog)
	}
	got := readN(t, r, n)
	for i, e := range got {
		if !bytes.Equal(e.Data, payloadOf(i, 1+i*7)) || e.Pos != want[i] {
			t.Fatalf("entry %d = %v %q, want %v %q", i, e.Pos, e.Data, want[i], payloadOf(i, 1+i*7))
		}
	}
	assertNothingMore(t, r)
	if err := r.Commit(got[n-1].Pos); err != nil {
		t.Fatal(err)
	}
	if b := r.Backlog(); b != 0 {
		t.Fatalf("Backlog after commit = %d, want 0", b)
	}
	if c := r.Committed(); c != got[n-1].Pos {
		t.Fatalf("Committed = %v, want %v", c, got[n-1].Pos)
	}
	if st := s.Stats(); st.Appends != n || st.Segments != 1 || st.Bytes != wantBytes {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestAppendRejects(t *testing.T) {
	s, _ := openTest(t, Options{Consumers: []string{"c"}})
	if _, err := s.Append(context.Background(), nil); !errors.Is(err, ErrEmpty) {
		t.Fatalf("empty payload: %v, want ErrEmpty", err)
	}
	big := make([]byte, MaxPayloadBytes+1)
	if _, err := s.Append(context.Background(), big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized payload: %v, want ErrTooLarge", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Append(ctx, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v, want context.Canceled", err)
	}
	if got := s.Bytes(); got != segmentHeaderSize {
		t.Fatalf("Bytes = %d after rejected appends, want %d", got, segmentHeaderSize)
	}
	if err := s.Healthy(); err != nil {
		t.Fatalf("Healthy = %v after rejected appends", err)
	}
}

func TestAppendCopiesPayload(t *testing.T) {
	s, _ := openTest(t, Options{Consumers: []string{"c"}})
	p := []byte("original")
	mustAppend(t, s, p)
	copy(p, "XXXXXXXX")
	r, _ := s.Reader("c")
	if got := readN(t, r, 1); string(got[0].Data) != "original" {
		t.Fatalf("read %q, want %q", got[0].Data, "original")
	}
}

func TestCloseFlushesAndRefuses(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, Consumers: []string{"c"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		acked = map[string]Position{}
	)
	for i := range n {
		wg.Go(func() {
			p := payloadOf(i, 50)
			pos, err := s.Append(context.Background(), p)
			switch {
			case err == nil:
				mu.Lock()
				acked[string(p)] = pos
				mu.Unlock()
			case !errors.Is(err, ErrClosed):
				t.Errorf("Append: %v", err)
			}
		})
	}
	time.Sleep(time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Append(context.Background(), []byte("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v, want ErrClosed", err)
	}

	// Every acknowledged append is readable after Close, then Next says
	// ErrClosed instead of blocking.
	r, err := s.Reader("c")
	if err != nil {
		t.Fatal(err)
	}
	got := readN(t, r, len(acked))
	for _, e := range got {
		if acked[string(e.Data)] != e.Pos {
			t.Fatalf("entry %q at %v, acknowledged at %v", e.Data, e.Pos, acked[string(e.Data)])
		}
	}
	if _, err := r.Next(context.Background(), 1, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next on drained closed spool: %v, want ErrClosed", err)
	}

	s2, _ := openTest(t, Options{Dir: dir, Consumers: []string{"c"}})
	r2, _ := s2.Reader("c")
	if got2 := readN(t, r2, len(acked)); len(got2) != len(acked) {
		t.Fatalf("after reopen read %d, want %d", len(got2), len(acked))
	}
	assertNothingMore(t, r2)
}

func TestOpenValidation(t *testing.T) {
	f := func(opts Options, want string) {
		t.Helper()
		_, err := Open(opts)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Open(%+v) = %v, want error containing %q", opts, err, want)
		}
	}
	dir := t.TempDir()
	f(Options{}, "Dir is empty")
	f(Options{Dir: dir, SegmentBytes: 10}, "SegmentBytes 10 is too small")
	f(Options{Dir: dir, MaxBytes: -1}, "MaxBytes -1 is negative")
	f(Options{Dir: dir, Consumers: []string{"../x"}}, `invalid consumer name "../x"`)
	f(Options{Dir: dir, Consumers: []string{"a", "a"}}, `duplicate consumer "a"`)
}

func TestDirLock(t *testing.T) {
	dir := t.TempDir()
	s, _ := openTest(t, Options{Dir: dir})
	if _, err := Open(Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("second Open = %v, want lock error", err)
	}
	s.Close()
	s2, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}
