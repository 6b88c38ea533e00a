package spool

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// segmentFiles lists the segment files actually on disk.
func segmentFiles(t *testing.T, dir string) []uint64 {
	t.Helper()
	seqs, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	return seqs
}

func diskBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	for _, seq := range segmentFiles(t, dir) {
		n += fileSize(t, segmentPath(dir, seq))
	}
	return n
}

func TestSegmentRollAndDeletion(t *testing.T) {
	dir := t.TempDir()
	// 108-byte frames, 9 per 1 KiB segment.
	s, _ := openTest(t, Options{Dir: dir, SegmentBytes: 1024, Consumers: []string{"fast", "slow"}})
	const n = 100
	var pos []Position
	for i := range n {
		pos = append(pos, mustAppend(t, s, payloadOf(i, 100)))
	}
	const perSegment = (1024 - segmentHeaderSize) / 108
	wantSegments := (n + perSegment - 1) / perSegment
	for i, p := range pos {
		if want := uint64(i/perSegment + 1); p.Segment != want {
			t.Fatalf("entry %d in segment %d, want %d", i, p.Segment, want)
		}
	}
	if got := len(segmentFiles(t, dir)); got != wantSegments {
		t.Fatalf("%d segment files, want %d", got, wantSegments)
	}
	for _, seq := range segmentFiles(t, dir)[:wantSegments-1] {
		if size := fileSize(t, segmentPath(dir, seq)); size > 1024 {
			t.Fatalf("sealed segment %d is %d bytes, over SegmentBytes", seq, size)
		}
	}
	if s.Bytes() != diskBytes(t, dir) {
		t.Fatalf("Bytes = %d, disk holds %d", s.Bytes(), diskBytes(t, dir))
	}

	// The fast consumer finishing deletes nothing: "slow" has not even
	// opened its reader, and its cursor still gates deletion.
	fast, _ := s.Reader("fast")
	got := readN(t, fast, n)
	if err := fast.Commit(got[n-1].Pos); err != nil {
		t.Fatal(err)
	}
	if got := len(segmentFiles(t, dir)); got != wantSegments {
		t.Fatalf("%d segment files after only the fast consumer committed, want %d", got, wantSegments)
	}

	// The slow consumer commits entry 50 (index 49, in segment 6): the five
	// segments before it go, segment 6 stays because entry 50 is unread.
	slow, _ := s.Reader("slow")
	got = readN(t, slow, 50)
	if err := slow.Commit(got[49].Pos); err != nil {
		t.Fatal(err)
	}
	files := segmentFiles(t, dir)
	if want := uint64(49/perSegment + 1); files[0] != want || len(files) != wantSegments-int(want)+1 {
		t.Fatalf("segments after slow commit = %v, want %d..%d", files, want, wantSegments)
	}
	if s.Bytes() != diskBytes(t, dir) || s.Stats().Segments != len(files) {
		t.Fatalf("Bytes = %d, Stats = %+v; disk holds %d bytes in %d files", s.Bytes(), s.Stats(), diskBytes(t, dir), len(files))
	}
	// The slow reader keeps reading across the deletion.
	rest := readN(t, slow, n-50)
	for i, e := range rest {
		if e.Pos != pos[50+i] {
			t.Fatalf("slow entry %d at %v, want %v", 50+i, e.Pos, pos[50+i])
		}
	}
	if err := slow.Commit(rest[len(rest)-1].Pos); err != nil {
		t.Fatal(err)
	}
	// Everything consumed: only the active segment is left.
	if files := segmentFiles(t, dir); len(files) != 1 || files[0] != uint64(wantSegments) {
		t.Fatalf("segments after all consumed = %v, want [%d]", files, wantSegments)
	}
	if s.Bytes() != diskBytes(t, dir) {
		t.Fatalf("Bytes = %d, disk holds %d", s.Bytes(), diskBytes(t, dir))
	}
}

func TestEntryLargerThanSegment(t *testing.T) {
	s, _ := openTest(t, Options{SegmentBytes: 1024, Consumers: []string{"c"}})
	small := mustAppend(t, s, []byte("small"))
	big := mustAppend(t, s, payloadOf(1, 5000))
	after := mustAppend(t, s, []byte("after"))
	if small.Segment != 1 || big != (Position{2, segmentHeaderSize + frameBytes(5000)}) || after.Segment != 3 {
		t.Fatalf("positions %v %v %v; want the big entry alone in segment 2", small, big, after)
	}
	r, _ := s.Reader("c")
	if got := readN(t, r, 3); len(got[1].Data) != 5000 || string(got[2].Data) != "after" {
		t.Fatalf("read %d bytes, %q", len(got[1].Data), got[2].Data)
	}
}

func TestMaxBytes(t *testing.T) {
	dir := t.TempDir()
	s, _ := openTest(t, Options{Dir: dir, SegmentBytes: 1024, MaxBytes: 2048, Consumers: []string{"c"}})
	// Segments of 8+9*108 = 980 bytes; two full segments and a third
	// header would be 1968, plus a frame is over 2048.
	var last Position
	n := 0
	for {
		pos, err := s.Append(context.Background(), payloadOf(n, 100))
		if errors.Is(err, ErrFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		last, n = pos, n+1
	}
	if n != 18 {
		t.Fatalf("%d appends fit, want 18", n)
	}
	before, onDisk := s.Bytes(), diskBytes(t, dir)
	if _, err := s.Append(context.Background(), payloadOf(99, 100)); !errors.Is(err, ErrFull) {
		t.Fatalf("Append at cap = %v, want ErrFull", err)
	}
	if s.Bytes() != before || diskBytes(t, dir) != onDisk || before > 2048 {
		t.Fatalf("ErrFull wrote something: Bytes %d -> %d, disk %d -> %d", before, s.Bytes(), onDisk, diskBytes(t, dir))
	}
	if err := s.Healthy(); err != nil {
		t.Fatalf("ErrFull made the spool unhealthy: %v", err)
	}
	if st := s.Stats(); st.Full != 2 {
		t.Fatalf("Full = %d, want 2", st.Full)
	}
	if err := s.Full(time.Now()); !errors.Is(err, ErrFull) {
		t.Fatalf("Full after refusals = %v, want ErrFull", err)
	}
	if err := s.Full(time.Now().Add(fullMemory + time.Second)); err != nil {
		t.Fatalf("Full once the refusal is old = %v, want nil", err)
	}
	// A smaller payload that fits is still accepted, and ends the report.
	if _, err := s.Append(context.Background(), []byte("tiny")); err != nil {
		t.Fatalf("small append under cap: %v", err)
	}
	if err := s.Full(time.Now()); err != nil {
		t.Fatalf("Full after a successful append = %v, want nil", err)
	}

	r, _ := s.Reader("c")
	got := readN(t, r, n+1)
	if got[n-1].Pos != last {
		t.Fatalf("entry %d at %v, want %v", n-1, got[n-1].Pos, last)
	}
	if err := r.Commit(got[n].Pos); err != nil {
		t.Fatal(err)
	}
	pos, err := s.Append(context.Background(), payloadOf(100, 100))
	if err != nil {
		t.Fatalf("Append after consumer freed space: %v", err)
	}
	if got := readN(t, r, 1); got[0].Pos != pos {
		t.Fatalf("read %v, want %v", got[0].Pos, pos)
	}
	if s.Bytes() > 2048 || s.Bytes() != diskBytes(t, dir) {
		t.Fatalf("Bytes = %d (disk %d), cap 2048", s.Bytes(), diskBytes(t, dir))
	}
}

// TestMaxBytesBelowSegmentSize: with the cap smaller than one segment, the
// active segment itself must be sealed and deleted once consumed, or the
// spool would stay full forever.
func TestMaxBytesBelowSegmentSize(t *testing.T) {
	dir := t.TempDir()
	s, _ := openTest(t, Options{Dir: dir, MaxBytes: 1000, Consumers: []string{"a", "b"}})
	for i := range 9 { // 8 + 9*108 = 980
		mustAppend(t, s, payloadOf(i, 100))
	}
	if _, err := s.Append(context.Background(), payloadOf(9, 100)); !errors.Is(err, ErrFull) {
		t.Fatalf("Append at cap = %v, want ErrFull", err)
	}
	a, _ := s.Reader("a")
	b, _ := s.Reader("b")
	ga, gb := readN(t, a, 9), readN(t, b, 5)
	if err := a.Commit(ga[8].Pos); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(gb[4].Pos); err != nil {
		t.Fatal(err)
	}
	// b has not consumed everything: still full, nothing deleted.
	if _, err := s.Append(context.Background(), payloadOf(9, 100)); !errors.Is(err, ErrFull) {
		t.Fatalf("Append with a lagging consumer = %v, want ErrFull", err)
	}
	gb = readN(t, b, 4)
	if err := b.Commit(gb[3].Pos); err != nil {
		t.Fatal(err)
	}
	pos, err := s.Append(context.Background(), payloadOf(9, 100))
	if err != nil {
		t.Fatalf("Append after all consumed: %v", err)
	}
	if want := (Position{2, segmentHeaderSize + 108}); pos != want {
		t.Fatalf("append at %v, want %v in a fresh segment", pos, want)
	}
	if files := segmentFiles(t, dir); len(files) != 1 || files[0] != 2 {
		t.Fatalf("segments = %v, want [2]", files)
	}
	for _, r := range []*Reader{a, b} {
		if got := readN(t, r, 1); got[0].Pos != pos || string(got[0].Data) != string(payloadOf(9, 100)) {
			t.Fatalf("read %v %q", got[0].Pos, got[0].Data)
		}
	}
}

func TestNoConsumersKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s, _ := openTest(t, Options{Dir: dir, SegmentBytes: 256})
	for i := range 20 {
		mustAppend(t, s, payloadOf(i, 100))
	}
	if got := len(segmentFiles(t, dir)); got != 10 {
		t.Fatalf("%d segments, want 10", got)
	}
	if _, err := os.Stat(segmentPath(dir, 1)); err != nil {
		t.Fatalf("first segment deleted without consumers: %v", err)
	}
}
