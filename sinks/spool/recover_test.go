package spool

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
)

// writeSegment writes a segment file by hand: header, frames of payloads,
// then tail bytes as a crash might leave them.
func writeSegment(t testing.TB, dir string, seq uint64, payloads [][]byte, tail []byte) int64 {
	t.Helper()
	b := append([]byte(nil), segmentMagic[:]...)
	for _, p := range payloads {
		b = append(b, frameIn(seq, p)...)
	}
	good := int64(len(b))
	b = append(b, tail...)
	if err := os.WriteFile(segmentPath(dir, seq), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return good
}

// frameIn is payload's frame as segment seq (current format) holds it.
func frameIn(seq uint64, payload []byte) []byte {
	f := appendFrame(nil, payload)
	saltFrame(f, segmentSalt(segmentVersion, seq))
	return f
}

func frameHeaderOf(length, sum uint32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, length)
	return binary.LittleEndian.AppendUint32(b, sum)
}

func TestTornTailTruncated(t *testing.T) {
	// The tails land in segment 2.
	good := frameIn(2, []byte("a good payload"))
	badCRC := frameIn(2, []byte("checksum will not match"))
	badCRC[len(badCRC)-1] ^= 0xff
	tails := map[string][]byte{
		"partial header":     {0x10, 0x00, 0x00},
		"partial payload":    good[:len(good)-3],
		"checksum mismatch":  badCRC,
		"length over max":    frameHeaderOf(MaxPayloadBytes+1, 0),
		"zero-filled":        make([]byte, 4096),
		"garbage":            []byte("\xde\xad\xbe\xef garbage after a crash \x00\x01"),
		"good then torn":     append(append([]byte(nil), good...), badCRC[:11]...),
		"header only":        frameHeaderOf(5, 0),
		"huge length+crumbs": append(frameHeaderOf(1<<20, 1), 1, 2, 3),
	}
	for name, tail := range tails {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			payloads := [][]byte{[]byte("one"), []byte("two"), payloadOf(3, 500)}
			// The first segment is sealed and complete; the torn tail is
			// in the second (last) one.
			writeSegment(t, dir, 1, [][]byte{[]byte("sealed")}, nil)
			goodSize := writeSegment(t, dir, 2, payloads, tail)
			wantKept := goodSize
			if name == "good then torn" {
				wantKept += int64(len(good)) // the complete frame survives
				payloads = append(payloads, []byte("a good payload"))
			}

			s, logs := openTest(t, Options{Dir: dir, Consumers: []string{"c"}})
			if size := fileSize(t, segmentPath(dir, 2)); size != wantKept {
				t.Fatalf("segment size after recovery %d, want %d", size, wantKept)
			}
			dropped := goodSize + int64(len(tail)) - wantKept
			wantLog := fmt.Sprintf("segment=2 offset=%d dropped_bytes=%d", wantKept, dropped)
			if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, wantLog) {
				t.Fatalf("log %q does not contain a warning with %q", out, wantLog)
			}
			if s.Bytes() != int64(len(segmentMagic))+frameBytes(6)+wantKept {
				t.Fatalf("Bytes = %d", s.Bytes())
			}
			p := mustAppend(t, s, []byte("after recovery"))
			if want := (Position{2, wantKept + frameBytes(14)}); p != want {
				t.Fatalf("append after recovery at %v, want %v", p, want)
			}

			r, _ := s.Reader("c")
			got := readN(t, r, 1+len(payloads)+1)
			want := append(append([][]byte{[]byte("sealed")}, payloads...), []byte("after recovery"))
			for i, e := range got {
				if !bytes.Equal(e.Data, want[i]) {
					t.Fatalf("entry %d = %q, want %q", i, e.Data, want[i])
				}
			}
			assertNothingMore(t, r)
		})
	}
}

func TestCleanTailNotTouched(t *testing.T) {
	dir := t.TempDir()
	size := writeSegment(t, dir, 1, [][]byte{[]byte("x"), []byte("y")}, nil)
	s, logs := openTest(t, Options{Dir: dir})
	if out := logs.String(); out != "" {
		t.Fatalf("clean open logged %q", out)
	}
	if s.Bytes() != size {
		t.Fatalf("Bytes = %d, want %d", s.Bytes(), size)
	}
}

func TestTornSegmentHeaderRewritten(t *testing.T) {
	for _, torn := range [][]byte{nil, {'H', 'G'}, make([]byte, 64)} {
		dir := t.TempDir()
		writeSegment(t, dir, 1, [][]byte{[]byte("kept")}, nil)
		// Crash while creating segment 2: file exists, header not durable.
		if err := os.WriteFile(segmentPath(dir, 2), torn, 0o644); err != nil {
			t.Fatal(err)
		}
		s, logs := openTest(t, Options{Dir: dir, Consumers: []string{"c"}})
		if !strings.Contains(logs.String(), "rewrote torn segment header") {
			t.Fatalf("header rewrite not logged: %q", logs)
		}
		p := mustAppend(t, s, []byte("new"))
		if p != (Position{2, segmentHeaderSize + frameBytes(3)}) {
			t.Fatalf("append at %v, want 2:%d", p, segmentHeaderSize+frameBytes(3))
		}
		r, _ := s.Reader("c")
		got := readN(t, r, 2)
		if string(got[0].Data) != "kept" || string(got[1].Data) != "new" {
			t.Fatalf("read %q %q", got[0].Data, got[1].Data)
		}
	}
}

func TestForeignLastSegmentRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(segmentPath(dir, 1), []byte("PK\x03\x04 something else entirely"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "bad magic") {
		t.Fatalf("Open over foreign file = %v, want bad magic error", err)
	}
	if fileSize(t, segmentPath(dir, 1)) == segmentHeaderSize {
		t.Fatal("foreign file was truncated")
	}
}

// FuzzRecover appends arbitrary bytes to the last segment after good
// entries: Open must not fail or panic, every good entry must survive, and
// appends must continue after whatever recovery kept.
func FuzzRecover(f *testing.F) {
	good := frameIn(1, []byte("valid frame in the tail"))
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(append(append([]byte(nil), good...), 0xff, 0, 0, 0))
	f.Add(make([]byte, 64))
	f.Add(frameHeaderOf(0xffffffff, 0))
	payloads := [][]byte{[]byte("first"), []byte("second"), payloadOf(2, 300)}
	f.Fuzz(func(t *testing.T, tail []byte) {
		dir := t.TempDir()
		goodSize := writeSegment(t, dir, 1, payloads, tail)
		s, err := Open(Options{Dir: dir, Consumers: []string{"c"}, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer s.Close()
		if b := s.Bytes(); b < goodSize || b > goodSize+int64(len(tail)) {
			t.Fatalf("Bytes = %d, want within [%d, %d]", b, goodSize, goodSize+int64(len(tail)))
		}
		last, err := s.Append(context.Background(), []byte("appended"))
		if err != nil {
			t.Fatalf("Append after recovery: %v", err)
		}
		r, _ := s.Reader("c")
		got := readN(t, r, len(payloads))
		for i, e := range got {
			if !bytes.Equal(e.Data, payloads[i]) {
				t.Fatalf("entry %d = %q, want %q", i, e.Data, payloads[i])
			}
		}
		// Frames the fuzzer made valid may follow; then our append.
		for {
			e := readN(t, r, 1)[0]
			if e.Pos == last {
				if string(e.Data) != "appended" {
					t.Fatalf("last entry %q", e.Data)
				}
				break
			}
			if e.Pos.Compare(last) > 0 {
				t.Fatalf("read past the appended entry: %v > %v", e.Pos, last)
			}
		}
	})
}
