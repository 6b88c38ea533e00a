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
// read, then deleted or kept as the free file for a later segment (see
// recycle). Format 1 frames carry the plain checksum; format 2 frames carry it
// salted with the segment's sequence number (segmentSalt), which is what makes
// reusing a file safe. Format 1 segments, from older versions, are still read
// and appended to, never reused.

const (
	segmentHeaderSize = 8
	segmentSuffix     = ".seg"
	freeSuffix        = ".free"
	segmentNameDigits = 20

	segmentVersion = 2 // the format of new segments
)

var segmentMagic = [segmentHeaderSize]byte{'H', 'G', 'S', 'P', segmentVersion, 0, 0, 0}

// headerVersion returns the format version of a segment header, or false if
// it is not one this package writes or has written.
func headerVersion(hdr [segmentHeaderSize]byte) (byte, bool) {
	v := hdr[4]
	hdr[4] = segmentVersion
	return v, hdr == segmentMagic && (v == 1 || v == 2)
}

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

// checkSegmentHeader validates the header of an open segment file and
// returns its format version.
func checkSegmentHeader(f *os.File, seq uint64) (byte, error) {
	var hdr [segmentHeaderSize]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("%w: segment %d: short header", ErrCorrupt, seq)
		}
		return 0, fmt.Errorf("spool: read segment %d header: %w", seq, err)
	}
	v, ok := headerVersion(hdr)
	if !ok {
		return 0, fmt.Errorf("%w: segment %d: bad magic %x", ErrCorrupt, seq, hdr)
	}
	return v, nil
}

// recoverSegment opens the last segment for appending after a restart. A
// crash mid-write leaves a torn frame (short, or with a checksum that does
// not match) at the tail; everything from the first bad frame on was never
// acknowledged, so it is truncated away and logged rather than failing
// start-up. It returns the file positioned for appends, its durable size and
// its format version. In a reused file, the frames of its former segment past
// the data fail their checksum like a torn write and are truncated the same way.
func recoverSegment(dir string, seq uint64, log *slog.Logger) (*os.File, int64, byte, error) {
	path := segmentPath(dir, seq)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("spool: open segment %d: %w", seq, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, 0, fmt.Errorf("spool: stat segment %d: %w", seq, err)
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
			return nil, 0, 0, fmt.Errorf("spool: rewrite segment %d header: %w", seq, err)
		}
		return f, segmentHeaderSize, segmentVersion, nil
	}
	version, ok := headerVersion(hdr)
	if !ok {
		// Not a torn write: something else owns this file. Refuse to
		// truncate data we do not understand.
		f.Close()
		return nil, 0, 0, fmt.Errorf("spool: segment %d: bad magic %x", seq, hdr)
	}

	good, reason, err := scanFrames(f, size, segmentSalt(version, seq))
	if err != nil {
		f.Close()
		return nil, 0, 0, fmt.Errorf("spool: scan segment %d: %w", seq, err)
	}
	if good < size {
		log.Warn("spool: truncated torn tail", "segment", seq, "offset", good, "dropped_bytes", size-good, "reason", reason)
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, 0, 0, fmt.Errorf("spool: truncate segment %d at %d: %w", seq, good, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, 0, 0, fmt.Errorf("spool: fsync segment %d: %w", seq, err)
		}
	}
	return f, good, version, nil
}

// scanFrames walks the frames of a segment of the given size and returns the
// offset just past the last valid frame, with the reason the scan stopped
// early (empty when the whole file is valid).
func scanFrames(f *os.File, size int64, salt uint32) (good int64, reason string, err error) {
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
		if !validPayload(payload, sum, salt) {
			return good, "checksum mismatch", nil
		}
		good += frameHeaderSize + length
	}
	return good, "", nil
}

// Recycling. Writing into a new file makes the file system allocate blocks
// and journal the file's growth on every fsync; overwriting the blocks of a
// file that already has them does neither, which halves the CPU of a write
// plus fsync and their latency. So consumed segment files are kept as free
// files, Dir/<20-digit seq>.free, and the next segments reuse them: renamed
// into place, its header rewritten, its old frames overwritten as the new
// segment grows. Frames past the new data are the former segment's, which
// its salt tells apart (segmentSalt). When the segment is sealed, the file is
// cut to its data (sealSegment), so a sealed segment's size is its data.

func freePath(dir string, seq uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%0*d%s", segmentNameDigits, seq, freeSuffix))
}

// reuseSegment turns the free file at path into segment seq, durably: after
// a crash the segment has its new header, or its former segment's header
// (same format), under which the former frames fail their checksum either
// way, as frames of another segment.
func reuseSegment(dir, path string, seq uint64) (*os.File, error) {
	dst := segmentPath(dir, seq)
	if err := os.Rename(path, dst); err != nil {
		return nil, fmt.Errorf("spool: reuse %s as segment %d: %w", filepath.Base(path), seq, err)
	}
	f, err := os.OpenFile(dst, os.O_RDWR, 0)
	if err != nil {
		os.Remove(dst)
		return nil, fmt.Errorf("spool: reuse segment %d: %w", seq, err)
	}
	if _, err := f.WriteAt(segmentMagic[:], 0); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		f.Close()
		os.Remove(dst)
		return nil, fmt.Errorf("spool: reuse segment %d: %w", seq, err)
	}
	return f, nil
}

// sealSegment cuts a segment file to size, its data, when it is a reused file
// longer than that, and makes the cut durable before another segment follows:
// a sealed segment's size on disk is its data.
func sealSegment(f *os.File, size int64) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() <= size {
		return nil
	}
	if err := f.Truncate(size); err != nil {
		return err
	}
	return f.Sync()
}

// recyclable reports whether the sealed segment file at path can become the
// free file: only a format 2 segment can, since a format 1 file's old frames
// would pass for new ones after a crash.
func recyclable(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var hdr [segmentHeaderSize]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return false
	}
	v, ok := headerVersion(hdr)
	return ok && v >= 2
}

// listFree returns the free files in dir, oldest first.
func listFree(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: list free files in %q: %w", dir, err)
	}
	var out []string
	for _, de := range des {
		digits, ok := strings.CutSuffix(de.Name(), freeSuffix)
		if ok && len(digits) == segmentNameDigits && de.Type().IsRegular() {
			out = append(out, filepath.Join(dir, de.Name()))
		}
	}
	return out, nil
}
