package spool

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestCursorPersistence(t *testing.T) {
	dir := t.TempDir()
	s, _ := openTest(t, Options{Dir: dir, Consumers: []string{"ch", "conv"}})
	var pos []Position
	for i := range 10 {
		pos = append(pos, mustAppend(t, s, payloadOf(i, 30)))
	}
	r, _ := s.Reader("ch")
	got := readN(t, r, 6) // read 6, commit only 4
	if err := r.Commit(got[3].Pos); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, _ := openTest(t, Options{Dir: dir, Consumers: []string{"ch", "conv"}})
	r2, _ := s2.Reader("ch")
	if c := r2.Committed(); c != pos[3] {
		t.Fatalf("Committed after reopen = %v, want %v", c, pos[3])
	}
	if got := readN(t, r2, 1); string(got[0].Data) != string(payloadOf(4, 30)) || got[0].Pos != pos[4] {
		t.Fatalf("first entry after reopen = %v %q, want entry 4", got[0].Pos, got[0].Data)
	}
	conv, _ := s2.Reader("conv")
	if c := conv.Committed(); c != (Position{}) {
		t.Fatalf("never-committed cursor = %v, want zero", c)
	}
	if got := readN(t, conv, 1); got[0].Pos != pos[0] {
		t.Fatalf("fresh consumer starts at %v, want %v", got[0].Pos, pos[0])
	}
	// Appends continue in the same segment, right after the old tail.
	if p := mustAppend(t, s2, payloadOf(10, 30)); p != (Position{1, pos[9].Offset + frameBytes(30)}) {
		t.Fatalf("append after reopen at %v, want %v", p, Position{1, pos[9].Offset + frameBytes(30)})
	}
	if _, err := os.Stat(cursorPath(dir, "ch") + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("temporary cursor file left behind: %v", err)
	}
}

func TestRewind(t *testing.T) {
	s, _ := openTest(t, Options{Consumers: []string{"c"}})
	for i := range 5 {
		mustAppend(t, s, payloadOf(i, 10))
	}
	r, _ := s.Reader("c")
	first := readN(t, r, 3)
	r.Rewind()
	again := readN(t, r, 3)
	for i := range first {
		if first[i].Pos != again[i].Pos || string(first[i].Data) != string(again[i].Data) {
			t.Fatalf("re-read entry %d = %v, want %v", i, again[i], first[i])
		}
	}
	if err := r.Commit(first[1].Pos); err != nil {
		t.Fatal(err)
	}
	r.Rewind()
	got := readN(t, r, 3)
	for i, e := range got {
		if want := payloadOf(i+2, 10); string(e.Data) != string(want) {
			t.Fatalf("after commit+rewind entry %d = %q, want %q", i, e.Data, want)
		}
	}
	assertNothingMore(t, r)
}

func TestNextBlocksUntilAppend(t *testing.T) {
	s, _ := openTest(t, Options{Consumers: []string{"c"}})
	r, _ := s.Reader("c")
	type result struct {
		entries []Entry
		err     error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e, err := r.Next(ctx, 10, nil)
		done <- result{e, err}
	}()
	select {
	case res := <-done:
		t.Fatalf("Next returned %d entries, %v on an empty log", len(res.entries), res.err)
	case <-time.After(50 * time.Millisecond):
	}
	pos := mustAppend(t, s, []byte("wake up"))
	res := <-done
	if res.err != nil || len(res.entries) != 1 || string(res.entries[0].Data) != "wake up" || res.entries[0].Pos != pos {
		t.Fatalf("Next = %+v, %v; want the appended entry", res.entries, res.err)
	}
}

func TestNextRespectsContext(t *testing.T) {
	s, _ := openTest(t, Options{Consumers: []string{"c"}})
	r, _ := s.Reader("c")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	start := time.Now()
	got, err := r.Next(ctx, 10, nil)
	if !errors.Is(err, context.Canceled) || len(got) != 0 {
		t.Fatalf("Next = %d entries, %v; want context.Canceled", len(got), err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Next took %v to notice cancellation", d)
	}
}

func TestNextMax(t *testing.T) {
	s, _ := openTest(t, Options{Consumers: []string{"c"}})
	for i := range 10 {
		mustAppend(t, s, payloadOf(i, 10))
	}
	r, _ := s.Reader("c")
	buf := make([]Entry, 0, 3)
	var counts []int
	for range 4 {
		var err error
		buf, err = r.Next(context.Background(), 3, buf)
		if err != nil {
			t.Fatal(err)
		}
		counts = append(counts, len(buf))
	}
	if want := []int{3, 3, 3, 1}; !equalInts(counts, want) {
		t.Fatalf("batch sizes %v, want %v", counts, want)
	}
	mustAppend(t, s, []byte("one more"))
	mustAppend(t, s, []byte("and another"))
	if got, err := r.Next(context.Background(), 0, nil); err != nil || len(got) != 1 {
		t.Fatalf("Next with max 0 = %d entries, %v; want 1", len(got), err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLargeEntriesAcrossReadChunks(t *testing.T) {
	s, _ := openTest(t, Options{Consumers: []string{"c"}})
	sizes := []int{readChunk - 100, 3 * readChunk, 10, readChunk + 1, 7}
	for i, n := range sizes {
		mustAppend(t, s, payloadOf(i, n))
	}
	r, _ := s.Reader("c")
	got := readN(t, r, len(sizes))
	for i, e := range got {
		if string(e.Data) != string(payloadOf(i, sizes[i])) {
			t.Fatalf("entry %d: %d bytes, want %d", i, len(e.Data), sizes[i])
		}
	}
}

func TestCommitValidation(t *testing.T) {
	s, _ := openTest(t, Options{Consumers: []string{"c"}})
	a := mustAppend(t, s, []byte("a"))
	b := mustAppend(t, s, []byte("b"))
	r, _ := s.Reader("c")
	if err := r.Commit(b); err != nil {
		t.Fatal(err)
	}
	if err := r.Commit(b); err != nil {
		t.Fatalf("repeated Commit: %v", err)
	}
	if err := r.Commit(a); err == nil || !strings.Contains(err.Error(), "behind committed cursor") {
		t.Fatalf("backwards Commit = %v", err)
	}
	if err := r.Commit(Position{1, b.Offset + 1}); err == nil || !strings.Contains(err.Error(), "beyond end of log") {
		t.Fatalf("Commit past end = %v", err)
	}
	if r.Committed() != b {
		t.Fatalf("Committed = %v, want %v", r.Committed(), b)
	}
}

func TestReaderValidation(t *testing.T) {
	s, _ := openTest(t, Options{Consumers: []string{"c"}})
	if _, err := s.Reader("nope"); err == nil || !strings.Contains(err.Error(), `unknown consumer "nope"`) {
		t.Fatalf("unknown consumer: %v", err)
	}
	r, err := s.Reader("c")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reader("c"); err == nil || !strings.Contains(err.Error(), "already open") {
		t.Fatalf("second reader: %v", err)
	}
	r.Close()
	if _, err := r.Next(context.Background(), 1, nil); !errors.Is(err, errReaderClosed) {
		t.Fatalf("Next on closed reader: %v", err)
	}
	if _, err := s.Reader("c"); err != nil {
		t.Fatalf("reader after Close: %v", err)
	}
}

func TestBacklog(t *testing.T) {
	s, _ := openTest(t, Options{SegmentBytes: 256, Consumers: []string{"c"}})
	var pos []Position
	for i := range 10 { // 2 frames of 108 bytes per segment
		pos = append(pos, mustAppend(t, s, payloadOf(i, 100)))
	}
	r, _ := s.Reader("c")
	if got := r.Backlog(); got != 10*108 {
		t.Fatalf("Backlog = %d, want %d", got, 10*108)
	}
	readN(t, r, 3)
	if err := r.Commit(pos[2]); err != nil {
		t.Fatal(err)
	}
	if got := r.Backlog(); got != 7*108 {
		t.Fatalf("Backlog after 3 = %d, want %d", got, 7*108)
	}
}

// TestCorruptRecordInOlderSegment flips a payload byte in a sealed segment:
// Open still succeeds (only the last segment is scanned), Next returns the
// good entries, then ErrCorrupt (logged once), and SkipSegment moves on.
func TestCorruptRecordInOlderSegment(t *testing.T) {
	dir := t.TempDir()
	s, _ := openTest(t, Options{Dir: dir, SegmentBytes: 1024, Consumers: []string{"c"}})
	var pos []Position
	for i := range 30 {
		pos = append(pos, mustAppend(t, s, payloadOf(i, 100)))
	}
	s.Close()
	// Entry 4 is in segment 1; its payload starts at pos[3].Offset+8.
	f, err := os.OpenFile(segmentPath(dir, 1), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{'#'}, pos[3].Offset+frameHeaderSize+20); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s2, logs := openTest(t, Options{Dir: dir, SegmentBytes: 1024, Consumers: []string{"c"}})
	r, _ := s2.Reader("c")
	got, err := r.Next(context.Background(), 100, nil)
	if err != nil || len(got) != 4 {
		t.Fatalf("Next = %d entries, %v; want the 4 good ones", len(got), err)
	}
	for range 2 {
		got, err = r.Next(context.Background(), 100, nil)
		if !errors.Is(err, ErrCorrupt) || len(got) != 0 || !strings.Contains(err.Error(), "segment 1 offset") {
			t.Fatalf("Next at corrupt record = %d entries, %v; want ErrCorrupt", len(got), err)
		}
	}
	if n := strings.Count(logs.String(), "corrupt record"); n != 1 {
		t.Fatalf("corruption logged %d times, want once:\n%s", n, logs)
	}
	next, skipped := r.SkipSegment()
	if next != (Position{2, segmentHeaderSize}) || skipped != 5*108 {
		t.Fatalf("SkipSegment = %v, %d; want 2:8, %d", next, skipped, 5*108)
	}
	got = readN(t, r, 21)
	for i, e := range got {
		if e.Pos != pos[9+i] {
			t.Fatalf("entry after skip %d at %v, want %v", i, e.Pos, pos[9+i])
		}
	}
}

func TestCorruptSegmentHeader(t *testing.T) {
	dir := t.TempDir()
	s, _ := openTest(t, Options{Dir: dir, SegmentBytes: 256, Consumers: []string{"c"}})
	for i := range 6 {
		mustAppend(t, s, payloadOf(i, 100))
	}
	s.Close()
	if err := os.WriteFile(segmentPath(dir, 1), []byte("garbage!garbage!"), 0o644); err != nil {
		t.Fatal(err)
	}
	s2, _ := openTest(t, Options{Dir: dir, SegmentBytes: 256, Consumers: []string{"c"}})
	r, _ := s2.Reader("c")
	if _, err := r.Next(context.Background(), 10, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Next on bad segment header = %v, want ErrCorrupt", err)
	}
	r.SkipSegment()
	got := readN(t, r, 4)
	if string(got[0].Data) != string(payloadOf(2, 100)) {
		t.Fatalf("after skip read %q, want entry 2", got[0].Data)
	}
}

func TestCursorClampedAfterTruncation(t *testing.T) {
	dir := t.TempDir()
	s, _ := openTest(t, Options{Dir: dir, Consumers: []string{"c"}})
	var pos []Position
	for i := range 5 {
		pos = append(pos, mustAppend(t, s, payloadOf(i, 40)))
	}
	r, _ := s.Reader("c")
	got := readN(t, r, 5)
	if err := r.Commit(got[4].Pos); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Cut entry 4 in half: recovery truncates to the end of entry 3 and
	// the cursor, now past the end, is clamped there.
	if err := os.Truncate(segmentPath(dir, 1), pos[3].Offset+20); err != nil {
		t.Fatal(err)
	}
	s2, logs := openTest(t, Options{Dir: dir, Consumers: []string{"c"}})
	r2, _ := s2.Reader("c")
	if c := r2.Committed(); c != pos[3] {
		t.Fatalf("Committed = %v, want clamped %v", c, pos[3])
	}
	if !strings.Contains(logs.String(), "cursor beyond end of log, clamped") {
		t.Fatalf("clamp not logged:\n%s", logs)
	}
	p := mustAppend(t, s2, []byte("new"))
	if got := readN(t, r2, 1); got[0].Pos != p || string(got[0].Data) != "new" {
		t.Fatalf("read %v %q, want the new entry", got[0].Pos, got[0].Data)
	}
}

func TestCorruptCursorRereadsFromStart(t *testing.T) {
	dir := t.TempDir()
	s, _ := openTest(t, Options{Dir: dir, Consumers: []string{"c"}})
	first := mustAppend(t, s, []byte("a"))
	mustAppend(t, s, []byte("b"))
	s.Close()
	if err := os.WriteFile(cursorPath(dir, "c"), []byte("not a cursor"), 0o644); err != nil {
		t.Fatal(err)
	}
	s2, logs := openTest(t, Options{Dir: dir, Consumers: []string{"c"}})
	r, _ := s2.Reader("c")
	if got := readN(t, r, 1); got[0].Pos != first {
		t.Fatalf("read %v, want %v", got[0].Pos, first)
	}
	if !strings.Contains(logs.String(), "unreadable cursor") {
		t.Fatalf("corrupt cursor not logged:\n%s", logs)
	}
}

func TestCursorCodec(t *testing.T) {
	f := func(p Position) {
		t.Helper()
		got, err := decodeCursor(encodeCursor(p))
		if err != nil || got != p {
			t.Fatalf("round trip %v = %v, %v", p, got, err)
		}
	}
	f(Position{})
	f(Position{1, 8})
	f(Position{1<<64 - 1, 1<<63 - 1})
	b := encodeCursor(Position{3, 100})
	b[10] ^= 1
	if _, err := decodeCursor(b); err == nil {
		t.Fatal("decodeCursor accepted a flipped bit")
	}
}

func TestPositionCompare(t *testing.T) {
	f := func(a, b Position, want int) {
		t.Helper()
		if got := a.Compare(b); got != want {
			t.Fatalf("%v.Compare(%v) = %d, want %d", a, b, got, want)
		}
	}
	f(Position{}, Position{1, 8}, -1)
	f(Position{1, 100}, Position{2, 8}, -1)
	f(Position{2, 8}, Position{1, 100}, 1)
	f(Position{2, 9}, Position{2, 8}, 1)
	f(Position{2, 8}, Position{2, 8}, 0)
}

// TestKeepEntries: after KeepEntries, the data of entries from earlier reads
// stays intact while later reads go on, across read-ahead refills.
func TestKeepEntries(t *testing.T) {
	s, _ := openTest(t, Options{Consumers: []string{"c"}})
	r, _ := s.Reader("c")
	r.KeepEntries()
	var kept []Entry
	sizes := []int{100, readChunk / 2, readChunk, 10, 3 * readChunk, 7}
	for i, n := range sizes {
		mustAppend(t, s, payloadOf(i, n))
		// One read per append: each is a refill of the read-ahead buffer.
		got, err := r.Next(context.Background(), 10, nil)
		if err != nil || len(got) != 1 {
			t.Fatalf("read %d: %d entries, %v", i, len(got), err)
		}
		kept = append(kept, got...)
	}
	for i, e := range kept {
		if string(e.Data) != string(payloadOf(i, sizes[i])) {
			t.Fatalf("entry %d changed after later reads: %.20q…", i, e.Data)
		}
	}
}
