package spool

import (
	"bytes"
	"os"
	"testing"
)

// FuzzCursorCodec: any cursor round-trips; any bytes either fail to decode
// or are exactly the encoding of what they decode to (so a corrupt file is
// never read as some other position); one flipped bit always fails.
func FuzzCursorCodec(f *testing.F) {
	f.Add(uint64(1), int64(8), []byte{}, uint(0))
	f.Add(uint64(0), int64(0), encodeCursor(Position{Segment: 7, Offset: 1 << 40}), uint(95))
	f.Add(^uint64(0), int64(1<<62), []byte("HGSC0123456789abcdefghij"), uint(160))
	f.Fuzz(func(t *testing.T, seg uint64, off int64, raw []byte, bit uint) {
		if off >= 0 {
			p := Position{Segment: seg, Offset: off}
			b := encodeCursor(p)
			got, err := decodeCursor(b)
			if err != nil || got != p {
				t.Fatalf("round trip of %+v = %+v, %v", p, got, err)
			}
			bad := bytes.Clone(b)
			bad[bit/8%cursorSize] ^= 1 << (bit % 8)
			if q, err := decodeCursor(bad); err == nil {
				t.Fatalf("cursor %+v with bit %d flipped decoded as %+v", p, bit%(cursorSize*8), q)
			}
		}
		if p, err := decodeCursor(raw); err == nil && !bytes.Equal(encodeCursor(p), raw) {
			t.Fatalf("decodeCursor(%x) = %+v, whose encoding differs", raw, p)
		}
	})
}

// splitPayloads cuts data into payloads, each led by a byte giving its length
// (a zero length byte makes a one-byte payload: Append refuses empty ones).
func splitPayloads(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		n := max(int(data[0]), 1)
		data = data[1:]
		n = min(n, len(data))
		if n == 0 {
			break
		}
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

// segmentBytes returns a segment file's bytes holding payloads framed with
// salt, and the offset where each frame ends.
func segmentBytes(payloads [][]byte, salt uint32) ([]byte, []int64) {
	b := make([]byte, segmentHeaderSize)
	copy(b, segmentMagic[:])
	ends := make([]int64, 0, len(payloads))
	for _, p := range payloads {
		at := len(b)
		b = appendFrame(b, p)
		saltFrame(b[at:], salt)
		ends = append(ends, int64(len(b)))
	}
	return b, ends
}

// scanBytes runs scanFrames over b written to a file.
func scanBytes(t *testing.T, b []byte, salt uint32) (int64, string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "seg")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	good, reason, err := scanFrames(f, int64(len(b)), salt)
	if err != nil {
		t.Fatalf("scanFrames: %v", err)
	}
	return good, reason
}

// FuzzFrameScan: the frames of a segment are all found again; a flipped bit
// stops the scan at or before the frame it hit, a cut at the last frame that
// is whole, and a frame written under another segment's salt is never taken.
func FuzzFrameScan(f *testing.F) {
	f.Add([]byte("\x03abc\x01x\x05hello"), uint64(1), uint(70), uint(9))
	f.Add([]byte("\x00z\xffshort"), uint64(2), uint(0), uint(0))
	f.Fuzz(func(t *testing.T, data []byte, seq uint64, bit, cut uint) {
		payloads := splitPayloads(data)
		if len(payloads) == 0 {
			return
		}
		salt := segmentSalt(segmentVersion, seq)
		b, ends := segmentBytes(payloads, salt)
		size := int64(len(b))
		if good, reason := scanBytes(t, b, salt); good != size || reason != "" {
			t.Fatalf("intact segment: scan stopped at %d of %d (%s)", good, size, reason)
		}
		framed := uint(size-segmentHeaderSize) * 8
		at := segmentHeaderSize + int64(bit%framed/8)
		bad := bytes.Clone(b)
		bad[at] ^= 1 << (bit % 8)
		if good, _ := scanBytes(t, bad, salt); good > frameStart(ends, at) {
			t.Fatalf("bit flipped at byte %d: scan accepted up to %d, past the start %d of the frame it hit", at, good, frameStart(ends, at))
		}
		cutAt := segmentHeaderSize + int64(cut)%(size-segmentHeaderSize)
		if good, _ := scanBytes(t, b[:cutAt], salt); good != frameStart(ends, cutAt) {
			t.Fatalf("segment cut at %d: scan stopped at %d, want %d", cutAt, good, frameStart(ends, cutAt))
		}
		if other := segmentSalt(segmentVersion, seq+1); other != salt {
			if good, _ := scanBytes(t, b, other); good != segmentHeaderSize {
				t.Fatalf("frames of another segment accepted up to %d", good)
			}
		}
	})
}

// frameStart returns where the frame holding offset at begins: the end of
// the last frame that ends at or before it.
func frameStart(ends []int64, at int64) int64 {
	start := int64(segmentHeaderSize)
	for _, e := range ends {
		if e > at {
			break
		}
		start = e
	}
	return start
}
