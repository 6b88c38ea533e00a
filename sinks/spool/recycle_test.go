package spool

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// consumeAll reads every entry available to r and commits past them.
func consumeAll(t *testing.T, s *Spool, r *Reader) {
	t.Helper()
	end := s.end()
	for {
		got, err := r.Next(context.Background(), 1000, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Commit(got[len(got)-1].Pos); err != nil {
			t.Fatal(err)
		}
		if got[len(got)-1].Pos == end {
			return
		}
	}
}

func (s *Spool) end() Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endLocked()
}

// fillSegments appends 100-byte payloads until segment seq is the active one.
func fillSegments(t *testing.T, s *Spool, seq uint64, next *int) {
	t.Helper()
	for s.end().Segment < seq {
		mustAppend(t, s, payloadOf(*next, 100))
		*next++
	}
}

// TestSegmentFileReused: a consumed segment file becomes the free file, and
// the next segment is that same file, its former frames overwritten or cut
// away when it is sealed; everything reads back intact, also after a reopen.
func TestSegmentFileReused(t *testing.T) {
	dir := t.TempDir()
	s, logs := openTest(t, Options{Dir: dir, SegmentBytes: 1024, Consumers: []string{"c"}})
	r, _ := s.Reader("c")
	next := 0
	fillSegments(t, s, 3, &next)
	consumeAll(t, s, r)
	free, err := listFree(dir)
	if err != nil || len(free) != 2 || filepath.Base(free[0]) != filepath.Base(freePath(dir, 1)) ||
		filepath.Base(free[1]) != filepath.Base(freePath(dir, 2)) {
		t.Fatalf("free files %v, %v; want segments 1 and 2 kept", free, err)
	}
	freeInfo, err := os.Stat(free[0])
	if err != nil {
		t.Fatal(err)
	}
	if got := segmentFiles(t, dir); len(got) != 1 || got[0] != 3 {
		t.Fatalf("segments %v, want [3]", got)
	}

	fillSegments(t, s, 4, &next)
	seg4, err := os.Stat(segmentPath(dir, 4))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(freeInfo, seg4) {
		t.Fatal("segment 4 is a new file; want the oldest free file reused")
	}
	if seg4.Size() <= segmentHeaderSize {
		t.Fatalf("reused file has %d bytes; want its former frames still past the header", seg4.Size())
	}
	// Sealing cuts the reused file to its data.
	fillSegments(t, s, 5, &next)
	if size, want := fileSize(t, segmentPath(dir, 4)), s.segmentSize(4); size != want {
		t.Fatalf("sealed reused segment is %d bytes on disk, its data %d", size, want)
	}
	last := mustAppend(t, s, []byte("last"))
	// 108-byte frames, 9 a segment: entries 0..18 were consumed above (18
	// opened segment 3), 19..next-1 and "last" remain.
	got := readN(t, r, next-19+1)
	if !bytes.Equal(got[len(got)-1].Data, []byte("last")) || got[len(got)-1].Pos != last {
		t.Fatalf("last entry %q at %v, want \"last\" at %v", got[len(got)-1].Data, got[len(got)-1].Pos, last)
	}
	for i, e := range got[:len(got)-1] {
		if want := payloadOf(19+i, 100); !bytes.Equal(e.Data, want) {
			t.Fatalf("entry %d = %.20q…, want %.20q…", 19+i, e.Data, want)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A clean reopen finds nothing to discard and everything in place.
	s2, logs2 := openTest(t, Options{Dir: dir, SegmentBytes: 1024, Consumers: []string{"c"}})
	if strings.Contains(logs2.String(), "truncated") || strings.Contains(logs.String(), "truncated") {
		t.Fatalf("clean restart discarded bytes: %s%s", logs, logs2)
	}
	r2, _ := s2.Reader("c")
	again := readN(t, r2, len(got))
	for i := range got {
		if !bytes.Equal(again[i].Data, got[i].Data) || again[i].Pos != got[i].Pos {
			t.Fatalf("after reopen, entry %d = %.20q at %v; want %.20q at %v", i, again[i].Data, again[i].Pos, got[i].Data, got[i].Pos)
		}
	}
}

func (s *Spool) segmentSize(seq uint64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sg := range s.segments {
		if sg.seq == seq {
			return sg.size
		}
	}
	return -1
}

// TestReusedSegmentAfterCrash: a crash while the active segment is a reused
// file leaves the former segment's frames past the new data. Their salt
// makes them fail the checksum, so recovery cuts them away and no reader
// ever sees one as a new entry.
func TestReusedSegmentAfterCrash(t *testing.T) {
	dir := t.TempDir()
	s, _ := openTest(t, Options{Dir: dir, SegmentBytes: 1024, Consumers: []string{"c"}})
	r, _ := s.Reader("c")
	next := 0
	fillSegments(t, s, 3, &next)
	consumeAll(t, s, r)
	fillSegments(t, s, 4, &next) // segment 4 reuses segment 1's file
	// Two new entries in segment 4, of the size of segment 1's: its frames
	// 4..9 lie beyond them, whole and aligned, which only their salt tells
	// apart from new ones.
	payloadA, payloadB := payloadOf(1000, 100), payloadOf(1001, 100)
	a := mustAppend(t, s, payloadA)
	b := mustAppend(t, s, payloadB)
	if fileSize(t, segmentPath(dir, 4)) <= b.Offset {
		t.Fatal("test setup: segment 4 holds no former frames past its data")
	}

	// The crash: a copy of the directory as it is on disk now.
	crashed := t.TempDir()
	des, _ := os.ReadDir(dir)
	for _, de := range des {
		if de.Name() == "LOCK" || de.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(crashed, de.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s2, logs := openTest(t, Options{Dir: crashed, SegmentBytes: 1024, Consumers: []string{"c"}})
	if !strings.Contains(logs.String(), "segment=4 offset="+strconv.FormatInt(b.Offset, 10)) {
		t.Fatalf("recovery did not cut segment 4 at %d: %s", b.Offset, logs)
	}
	if size := fileSize(t, segmentPath(crashed, 4)); size != b.Offset {
		t.Fatalf("segment 4 is %d bytes after recovery, want %d", size, b.Offset)
	}
	r2, _ := s2.Reader("c")
	got := readN(t, r2, next-19+2) // entries 19.. were not consumed
	if n := len(got); !bytes.Equal(got[n-2].Data, payloadA) || got[n-2].Pos != a ||
		!bytes.Equal(got[n-1].Data, payloadB) || got[n-1].Pos != b {
		t.Fatalf("last entries %q at %v, %q at %v", got[n-2].Data, got[n-2].Pos, got[n-1].Data, got[n-1].Pos)
	}
	c := mustAppend(t, s2, []byte("after recovery"))
	if e := readN(t, r2, 1)[0]; !bytes.Equal(e.Data, []byte("after recovery")) || e.Pos != c {
		t.Fatalf("read %q at %v after recovery", e.Data, e.Pos)
	}
}

// TestFormat1Segments: segments written by versions before reuse (plain
// checksums) are read, the active one is appended to in its own format, and
// once consumed they are deleted, never reused.
func TestFormat1Segments(t *testing.T) {
	dir := t.TempDir()
	v1 := [segmentHeaderSize]byte{'H', 'G', 'S', 'P', 1, 0, 0, 0}
	write := func(seq uint64, payloads ...string) {
		b := append([]byte(nil), v1[:]...)
		for _, p := range payloads {
			b = appendFrame(b, []byte(p))
		}
		if err := os.WriteFile(segmentPath(dir, seq), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(1, "old one", "old two")
	write(2, "old three")
	s, logs := openTest(t, Options{Dir: dir, SegmentBytes: 1024, Consumers: []string{"c"}})
	if strings.Contains(logs.String(), "truncated") {
		t.Fatalf("format 1 segment was cut: %s", logs)
	}
	mustAppend(t, s, []byte("new in segment 2"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, _ = openTest(t, Options{Dir: dir, SegmentBytes: 1024, Consumers: []string{"c"}})
	r, _ := s.Reader("c")
	var want []string
	want = append(want, "old one", "old two", "old three", "new in segment 2")
	got := readN(t, r, len(want))
	for i, w := range want {
		if string(got[i].Data) != w {
			t.Fatalf("entry %d = %q, want %q", i, got[i].Data, w)
		}
	}
	next := 100
	fillSegments(t, s, 4, &next)
	consumeAll(t, s, r)
	free, _ := listFree(dir)
	for _, f := range free {
		if base := filepath.Base(f); base == filepath.Base(freePath(dir, 1)) || base == filepath.Base(freePath(dir, 2)) {
			t.Fatalf("format 1 segment kept for reuse: %s", base)
		}
	}
	if len(free) != 1 || filepath.Base(free[0]) != filepath.Base(freePath(dir, 3)) {
		t.Fatalf("free files %v, want segment 3 (the first of the current format)", free)
	}
}

// TestFreeFilesBounded: at most maxFreeFiles consumed segments are kept, and
// none under a byte cap too small to leave room for them.
func TestFreeFilesBounded(t *testing.T) {
	for _, tc := range []struct {
		maxBytes int64
		want     int
	}{{0, maxFreeFiles}, {8 * 1024, maxFreeFiles}, {8*1024 - 1, 0}} {
		dir := t.TempDir()
		s, _ := openTest(t, Options{Dir: dir, SegmentBytes: 1024, MaxBytes: tc.maxBytes, Consumers: []string{"c"}})
		r, _ := s.Reader("c")
		next := 0
		fillSegments(t, s, 7, &next)
		consumeAll(t, s, r)
		free, err := listFree(dir)
		if err != nil || len(free) != tc.want {
			t.Fatalf("cap %d: %d free files (%v), want %d", tc.maxBytes, len(free), err, tc.want)
		}
		if got := segmentFiles(t, dir); len(got) != 1 || got[0] != 7 {
			t.Fatalf("cap %d: segments %v, want only the active one", tc.maxBytes, got)
		}
	}
}
