package spool

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// A segment is one file of the log, Dir/<20-digit seq>.seg. It starts with an
// 8-byte header (magic + format version) followed by frames. Only the newest
// segment (the active one) is ever written; older ones are sealed and only
// read or deleted.

const (
	segmentHeaderSize = 8
	segmentSuffix     = ".seg"
	segmentNameDigits = 20
)

var segmentMagic = [segmentHeaderSize]byte{'H', 'G', 'S', 'P', 1, 0, 0, 0}

// segment is the in-memory view of one segment file. size is the number of
// durable bytes (header included): for the active segment it only grows
// after a successful fsync, so readers never see bytes that could vanish.
type segment struct {
	seq  uint64
	size int64
}

func segmentPath(dir string, seq uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%0*d%s", segmentNameDigits, seq, segmentSuffix))
}

// listSegments returns the sequence numbers of the segment files in dir, in
// ascending order. Files with other names are ignored.
func listSegments(dir string) ([]uint64, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: list segments in %q: %w", dir, err)
	}
	var seqs []uint64
	for _, de := range des {
		name := de.Name()
		digits, ok := strings.CutSuffix(name, segmentSuffix)
		if !ok || len(digits) != segmentNameDigits || !de.Type().IsRegular() {
			continue
		}
		seq, err := strconv.ParseUint(digits, 10, 64)
		if err != nil {
			continue
		}
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	return seqs, nil
}

// createSegment creates segment seq with its header, durably: the file, its
// header and its directory entry are fsynced before any entry is written to
// it, so after a crash a segment either has a valid header or is a torn
// creation that recovery may rewrite.
func createSegment(dir string, seq uint64) (*os.File, error) {
	f, err := os.OpenFile(segmentPath(dir, seq), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("spool: create segment %d: %w", seq, err)
	}
	if err := writeSegmentHeader(f); err != nil {
		// Remove the headerless file (a full disk, say) so the next try can
		// create the same segment again.
		f.Close()
		os.Remove(segmentPath(dir, seq))
		return nil, fmt.Errorf("spool: create segment %d: %w", seq, err)
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, fmt.Errorf("spool: create segment %d: %w", seq, err)
	}
	return f, nil
}

func writeSegmentHeader(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(segmentMagic[:], 0); err != nil {
		return err
	}
	return f.Sync()
}

// syncDir makes renames, creations and deletions in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync directory %q: %w", dir, err)
	}
	return nil
}

// checkSegmentHeader validates the header of an open segment file.
func checkSegmentHeader(f *os.File, seq uint64) error {
	var hdr [segmentHeaderSize]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: segment %d: short header", ErrCorrupt, seq)
		}
		return fmt.Errorf("spool: read segment %d header: %w", seq, err)
	}
	if hdr != segmentMagic {
		return fmt.Errorf("%w: segment %d: bad magic %x", ErrCorrupt, seq, hdr)
	}
	return nil
}

// recoverSegment opens the last segment for appending after a restart. A
// crash mid-write leaves a torn frame (short, or with a checksum that does
// not match) at the tail; everything from the first bad frame on was never
// acknowledged, so it is truncated away and logged rather than failing
// start-up. It returns the file positioned for appends and its durable size.
func recoverSegment(dir string, seq uint64, log *slog.Logger) (*os.File, int64, error) {
	path := segmentPath(dir, seq)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("spool: open segment %d: %w", seq, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("spool: stat segment %d: %w", seq, err)
	}
	size := fi.Size()

	var hdr [segmentHeaderSize]byte
	n, _ := f.ReadAt(hdr[:], 0)
	if n < segmentHeaderSize || hdr == [segmentHeaderSize]byte{} {
		// A crash between creating the file and fsyncing its header: no
		// entry can have been acknowledged in it (entries are only written
		// after the header is durable), so rewrite the header.
		log.Warn("spool: rewrote torn segment header", "segment", seq, "offset", 0, "dropped_bytes", size)
		if err := writeSegmentHeader(f); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("spool: rewrite segment %d header: %w", seq, err)
		}
		return f, segmentHeaderSize, nil
	}
	if hdr != segmentMagic {
		// Not a torn write: something else owns this file. Refuse to
		// truncate data we do not understand.
		f.Close()
		return nil, 0, fmt.Errorf("spool: segment %d: bad magic %x", seq, hdr)
	}

	good, reason, err := scanFrames(f, size)
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("spool: scan segment %d: %w", seq, err)
	}
	if good < size {
		log.Warn("spool: truncated torn tail", "segment", seq, "offset", good, "dropped_bytes", size-good, "reason", reason)
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("spool: truncate segment %d at %d: %w", seq, good, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("spool: fsync segment %d: %w", seq, err)
		}
	}
	return f, good, nil
}

// scanFrames walks the frames of a segment of the given size and returns the
// offset just past the last valid frame, with the reason the scan stopped
// early (empty when the whole file is valid).
func scanFrames(f *os.File, size int64) (good int64, reason string, err error) {
	br := bufio.NewReaderSize(io.NewSectionReader(f, segmentHeaderSize, size-segmentHeaderSize), 1<<20)
	var (
		hdr     [frameHeaderSize]byte
		payload []byte
	)
	good = segmentHeaderSize
	for good < size {
		if size-good < frameHeaderSize {
			return good, "partial frame header", nil
		}
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return good, "", err
		}
		length, sum := frameHeader(hdr[:])
		if !validLength(length) {
			return good, fmt.Sprintf("invalid frame length %d", length), nil
		}
		if good+frameHeaderSize+length > size {
			return good, "partial frame payload", nil
		}
		if int64(cap(payload)) < length {
			payload = make([]byte, length)
		}
		payload = payload[:length]
		if _, err := io.ReadFull(br, payload); err != nil {
			return good, "", err
		}
		if !validPayload(payload, sum) {
			return good, "checksum mismatch", nil
		}
		good += frameHeaderSize + length
	}
	return good, "", nil
}
