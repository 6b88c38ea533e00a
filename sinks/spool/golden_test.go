package spool

import (
	"bytes"
	"os"
	"testing"
)

// The spool's on-disk formats, pinned by golden files: segments of format
// 1 (plain checksums) and 2 (checksums salted with the segment's sequence
// number), each holding the entries "alpha" and "beta" as segment 1, and
// the cursor file (its magic "HGSC" names its one format).

// TestSegmentGoldens: a segment of each format ever written reads back,
// and a new segment is written byte for byte as format 2's golden file.
func TestSegmentGoldens(t *testing.T) {
	for _, file := range []string{"testdata/segment_v1.seg", "testdata/segment_v2.seg"} {
		golden, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := os.WriteFile(segmentPath(dir, 1), golden, 0o644); err != nil {
			t.Fatal(err)
		}
		s, logs := openTest(t, Options{Dir: dir, Consumers: []string{"c"}})
		r, err := s.Reader("c")
		if err != nil {
			t.Fatal(err)
		}
		got := readN(t, r, 2)
		if string(got[0].Data) != "alpha" || string(got[1].Data) != "beta" {
			t.Fatalf("%s: read %q, %q (log: %s)", file, got[0].Data, got[1].Data, logs)
		}
	}
	dir := t.TempDir()
	s, _ := openTest(t, Options{Dir: dir, Consumers: []string{"c"}})
	mustAppend(t, s, []byte("alpha"))
	mustAppend(t, s, []byte("beta"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(segmentPath(dir, 1))
	if err != nil {
		t.Fatal(err)
	}
	golden, _ := os.ReadFile("testdata/segment_v2.seg")
	if len(written) < len(golden) || !bytes.Equal(written[:len(golden)], golden) {
		t.Fatalf("a new segment starts % x, want testdata/segment_v2.seg's % x: a format change needs a new segmentVersion", written[:min(len(written), len(golden))], golden)
	}
}

// TestCursorGolden: the cursor file encodes as its golden file and decodes
// from it.
func TestCursorGolden(t *testing.T) {
	golden, err := os.ReadFile("testdata/cursor_v1.bin")
	if err != nil {
		t.Fatal(err)
	}
	want := Position{Segment: 7, Offset: 123456}
	if enc := encodeCursor(want); !bytes.Equal(enc, golden) {
		t.Fatalf("cursor encodes as % x, want % x", enc, golden)
	}
	if got, err := decodeCursor(golden); err != nil || got != want {
		t.Fatalf("golden cursor decodes to %+v, %v; want %+v", got, err, want)
	}
}
