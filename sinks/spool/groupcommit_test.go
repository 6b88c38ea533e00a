package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestConcurrentAppenders(t *testing.T) {
	const goroutines, perG = 64, 500
	s, _ := openTest(t, Options{Consumers: []string{"c"}, SegmentBytes: 256 << 10})
	acked := make([][]Position, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				pos, err := s.Append(context.Background(), fmt.Appendf(nil, "g%02d-%04d-%s", g, i, strings.Repeat("x", g)))
				if err != nil {
					t.Errorf("Append g%d #%d: %v", g, i, err)
					return
				}
				acked[g] = append(acked[g], pos)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	r, err := s.Reader("c")
	if err != nil {
		t.Fatal(err)
	}
	got := readN(t, r, goroutines*perG)
	assertNothingMore(t, r)
	next := make([]int, goroutines) // next expected index per goroutine
	var prev Position
	for _, e := range got {
		if e.Pos.Compare(prev) <= 0 {
			t.Fatalf("position %v not after %v", e.Pos, prev)
		}
		prev = e.Pos
		var g, i int
		if _, err := fmt.Sscanf(string(e.Data), "g%02d-%04d-", &g, &i); err != nil {
			t.Fatalf("bad entry %q: %v", e.Data, err)
		}
		if i != next[g] {
			t.Fatalf("goroutine %d: read entry %d, want %d (lost, duplicated or reordered)", g, i, next[g])
		}
		if acked[g][i] != e.Pos {
			t.Fatalf("g%d #%d read at %v, acknowledged at %v", g, i, e.Pos, acked[g][i])
		}
		next[g]++
	}
	for g, n := range next {
		if n != perG {
			t.Fatalf("goroutine %d: read %d entries, want %d", g, n, perG)
		}
	}
	st := s.Stats()
	if st.Appends != goroutines*perG || st.Segments < 2 {
		t.Fatalf("Stats = %+v, want %d appends over several segments", st, goroutines*perG)
	}
	t.Logf("%d appends, %d fsyncs, %d segments", st.Appends, st.Syncs, st.Segments)
}

// stallSync returns a sync hook that blocks the first fsync until release is
// closed, reporting on entered when it starts.
func stallSync(entered chan<- struct{}, release <-chan struct{}) *hooks {
	var calls atomic.Int64
	return &hooks{syncData: func(f *os.File) error {
		if calls.Add(1) == 1 {
			entered <- struct{}{}
			<-release
		}
		return f.Sync()
	}}
}

func queueLen(s *Spool) int {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	return len(s.queue)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGroupCommitOneSyncPerBatch makes the batching deterministic: while the
// first fsync is stalled, ten appends queue up, and all ten must be made
// durable by exactly one more write+fsync.
func TestGroupCommitOneSyncPerBatch(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	s, _ := openTest(t, Options{Consumers: []string{"c"}, hooks: stallSync(entered, release)})

	var wg sync.WaitGroup
	wg.Go(func() { mustAppend(t, s, []byte("first")) })
	<-entered
	const queued = 10
	for i := range queued {
		wg.Go(func() { mustAppend(t, s, payloadOf(i, 20)) })
	}
	waitFor(t, "appends to queue", func() bool { return queueLen(s) == queued })
	close(release)
	wg.Wait()

	if st := s.Stats(); st.Syncs != 2 || st.Appends != queued+1 {
		t.Fatalf("Stats = %+v, want 2 fsyncs for %d appends", st, queued+1)
	}
}

func TestGroupCommitBatchesUnderConcurrency(t *testing.T) {
	// A slow disk: each fsync takes at least a millisecond, so appends
	// arriving meanwhile must share the next one.
	h := &hooks{syncData: func(f *os.File) error {
		time.Sleep(time.Millisecond)
		return f.Sync()
	}}
	s, _ := openTest(t, Options{Consumers: []string{"c"}, hooks: h})
	const goroutines, perG = 32, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				mustAppend(t, s, payloadOf(g*perG+i, 200))
			}
		})
	}
	wg.Wait()
	st := s.Stats()
	if st.Appends != goroutines*perG {
		t.Fatalf("Appends = %d, want %d", st.Appends, goroutines*perG)
	}
	if st.Syncs*4 > st.Appends {
		t.Fatalf("%d fsyncs for %d appends: group commit is not batching", st.Syncs, st.Appends)
	}
	t.Logf("%d appends, %d fsyncs (%.1f appends per fsync)", st.Appends, st.Syncs, float64(st.Appends)/float64(st.Syncs))
}

func TestAppendCancelledWhileQueued(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	s, _ := openTest(t, Options{Consumers: []string{"c"}, hooks: stallSync(entered, release)})

	var wg sync.WaitGroup
	wg.Go(func() { mustAppend(t, s, []byte("first")) })
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, []byte("cancelled"))
		errc <- err
	}()
	waitFor(t, "append to queue", func() bool { return queueLen(s) == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("queued Append = %v, want context.Canceled", err)
	}
	close(release)
	wg.Wait()
	mustAppend(t, s, []byte("third"))

	r, _ := s.Reader("c")
	got := readN(t, r, 2)
	if string(got[0].Data) != "first" || string(got[1].Data) != "third" {
		t.Fatalf("read %q, %q; want first, third (the cancelled append must not be written)", got[0].Data, got[1].Data)
	}
	assertNothingMore(t, r)
	if st := s.Stats(); st.Appends != 2 {
		t.Fatalf("Appends = %d, want 2", st.Appends)
	}
}

func TestFsyncFailureMakesSpoolUnhealthy(t *testing.T) {
	dir := t.TempDir()
	errDisk := errors.New("disk on fire")
	var calls atomic.Int64
	h := &hooks{syncData: func(f *os.File) error {
		if calls.Add(1) == 3 {
			return errDisk
		}
		return f.Sync()
	}}
	s, logs := openTest(t, Options{Dir: dir, Consumers: []string{"c"}, hooks: h})
	mustAppend(t, s, []byte("one"))
	good := mustAppend(t, s, []byte("two"))

	_, err := s.Append(context.Background(), []byte("three"))
	if !errors.Is(err, errDisk) || !strings.Contains(err.Error(), "spool: fsync segment 1") {
		t.Fatalf("Append with failing fsync = %v, want wrapped errDisk", err)
	}
	if herr := s.Healthy(); !errors.Is(herr, errDisk) {
		t.Fatalf("Healthy = %v, want errDisk", herr)
	}
	if _, err := s.Append(context.Background(), []byte("four")); !errors.Is(err, errDisk) {
		t.Fatalf("Append on unhealthy spool = %v, want errDisk", err)
	}
	// The failed batch is truncated away; durable accounting is unchanged.
	if size := fileSize(t, segmentPath(dir, 1)); size != good.Offset {
		t.Fatalf("segment size %d after failed fsync, want %d", size, good.Offset)
	}
	if s.Bytes() != good.Offset {
		t.Fatalf("Bytes = %d, want %d", s.Bytes(), good.Offset)
	}
	if !strings.Contains(logs.String(), "unusable after IO error") {
		t.Fatalf("failure not logged: %s", logs)
	}
	r, _ := s.Reader("c")
	if got := readN(t, r, 2); string(got[1].Data) != "two" {
		t.Fatalf("read %q, want two", got[1].Data)
	}
	assertNothingMore(t, r)
	r.Close()
	s.Close()

	s2, _ := openTest(t, Options{Dir: dir, Consumers: []string{"c"}})
	if err := s2.Healthy(); err != nil {
		t.Fatalf("Healthy after reopen: %v", err)
	}
	pos := mustAppend(t, s2, []byte("five"))
	if want := (Position{1, good.Offset + frameBytes(4)}); pos != want {
		t.Fatalf("append after reopen at %v, want %v", pos, want)
	}
	r2, _ := s2.Reader("c")
	got := readN(t, r2, 3)
	if string(got[0].Data) != "one" || string(got[1].Data) != "two" || string(got[2].Data) != "five" {
		t.Fatalf("read %q %q %q, want one two five", got[0].Data, got[1].Data, got[2].Data)
	}
}

// The observer is told of every group commit that made appends durable,
// with the time its write and fsync took, and of none that failed.
func TestObserveCommits(t *testing.T) {
	const slow = 20 * time.Millisecond
	var calls atomic.Int64
	h := &hooks{syncData: func(f *os.File) error {
		if calls.Add(1) == 3 {
			return errors.New("disk on fire")
		}
		time.Sleep(slow)
		return f.Sync()
	}}
	s, _ := openTest(t, Options{Consumers: []string{"c"}, hooks: h})
	var mu sync.Mutex
	var seen []time.Duration
	s.ObserveCommits(func(d time.Duration) {
		mu.Lock()
		seen = append(seen, d)
		mu.Unlock()
	})
	mustAppend(t, s, []byte("one"))
	mustAppend(t, s, []byte("two"))
	if _, err := s.Append(context.Background(), []byte("three")); err == nil {
		t.Fatal("the third append's fsync failed, yet it was acknowledged")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || uint64(len(seen)) != s.Stats().Syncs-1 {
		t.Fatalf("observed %d commits (%v), want the 2 that succeeded of %d", len(seen), seen, s.Stats().Syncs)
	}
	for i, d := range seen {
		if d < slow {
			t.Errorf("commit %d observed as %v, shorter than its fsync (%v)", i, d, slow)
		}
	}
}
