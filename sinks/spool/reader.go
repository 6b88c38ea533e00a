package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
)

// Entry is one payload read from the log. Pos is the position after it, the
// value to Commit once the entry's side effect is durable. Data aliases the
// reader's buffer and is valid until the next call to Next (for as long as it
// is held, after KeepEntries).
type Entry struct {
	Pos  Position
	Data []byte
}

// readChunk is how much a reader reads ahead with one ReadAt; entries are
// sliced out of that buffer without copying.
const readChunk = 1 << 20

// Reader reads the log for one consumer. Next, Rewind, SkipSegment and
// Close must be called from one goroutine at a time; Commit, Committed and
// Backlog may be called from any goroutine.
type Reader struct {
	s    *Spool
	name string

	// Owned by the goroutine calling Next.
	pos     Position // in-memory read position
	file    *os.File
	fileSeq uint64
	buf     []byte // read-ahead: bytes [bufOff, bufOff+len(buf)) of segment fileSeq
	bufOff  int64
	salt    uint32   // frame checksum salt of segment fileSeq
	badPos  Position // last corruption logged, so a retrying consumer does not flood the log
	closed  bool
	keep    bool // never reuse a buffer entries were sliced from

	commitMu sync.Mutex // serialises cursor writes
}

var errReaderClosed = errors.New("spool: reader closed")

// Reader returns the reader of consumer name, which must be one of
// Options.Consumers. It starts at the consumer's committed cursor (the start
// of the log if it never committed). Only one Reader per consumer may be open
// at a time; Close it to open another.
func (s *Spool) Reader(name string) (*Reader, error) {
	known := false
	for _, c := range s.consumers {
		known = known || c == name
	}
	if !known {
		return nil, fmt.Errorf("spool: unknown consumer %q", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readers[name] != nil {
		return nil, fmt.Errorf("spool: reader %q is already open", name)
	}
	r := &Reader{s: s, name: name, pos: s.cursors[name]}
	s.readers[name] = r
	return r, nil
}

// Next returns 1..max durable entries after the read position and advances
// it, blocking until at least one entry is available. It returns ctx.Err()
// when ctx is done first, and ErrClosed once the spool is closed and
// everything durable has been read. Entries are appended to buf[:0].
//
// A corrupt frame is reported as an error wrapping ErrCorrupt, after the good
// entries before it have been returned; it is reported again on every call
// until SkipSegment moves past it.
func (r *Reader) Next(ctx context.Context, max int, buf []Entry) ([]Entry, error) {
	out := buf[:0]
	if r.closed {
		return out, errReaderClosed
	}
	if max < 1 {
		max = 1
	}
	for {
		seq, limit, wait, err := r.locate()
		if err != nil {
			return out, err
		}
		if wait == nil {
			return r.read(seq, limit, max, out)
		}
		select {
		case <-wait:
		case <-r.s.closed: // locate reports ErrClosed if nothing is left
		case <-ctx.Done():
			return out, ctx.Err()
		}
	}
}

// locate moves the read position to the first unread durable byte and
// returns its segment and that segment's durable size. When the reader has
// caught up, it returns a channel closed on the next durable append instead.
func (r *Reader) locate() (seq uint64, limit int64, wait <-chan struct{}, err error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	segs := s.segments
	i := sort.Search(len(segs), func(i int) bool { return segs[i].seq >= r.pos.Segment })
	if i == len(segs) {
		return 0, 0, nil, fmt.Errorf("spool: read position %v is beyond the end of the log", r.pos)
	}
	for ; i < len(segs); i++ {
		sg := segs[i]
		if sg.seq != r.pos.Segment || r.pos.Offset < segmentHeaderSize {
			r.pos = Position{Segment: sg.seq, Offset: segmentHeaderSize}
		}
		if r.pos.Offset < sg.size {
			return sg.seq, sg.size, nil, nil
		}
	}
	// Caught up with the active segment.
	select {
	case <-s.closed:
		return 0, 0, nil, ErrClosed
	default:
	}
	return 0, 0, s.notify, nil
}

// read parses up to max frames of segment seq from the read position, not
// past limit. Frames come out of the read-ahead buffer; the buffer is only
// refilled before the first entry of a call, so returned Data stays valid.
func (r *Reader) read(seq uint64, limit int64, max int, out []Entry) ([]Entry, error) {
	if err := r.openSegment(seq); err != nil {
		return out, err
	}
	for len(out) < max && r.pos.Offset < limit {
		off := r.pos.Offset
		var avail []byte
		if rel := off - r.bufOff; rel >= 0 && rel <= int64(len(r.buf)) {
			avail = r.buf[rel:]
		}
		if len(avail) < frameHeaderSize {
			if len(out) > 0 {
				break
			}
			if limit-off < frameHeaderSize {
				return out, r.corrupt(seq, off, "partial frame header")
			}
			if err := r.fill(seq, off, limit, frameHeaderSize); err != nil {
				return out, err
			}
			continue
		}
		length, sum := frameHeader(avail)
		total := frameHeaderSize + length
		if !validLength(length) || off+total > limit {
			if len(out) > 0 {
				break
			}
			return out, r.corrupt(seq, off, fmt.Sprintf("frame length %d out of range", length))
		}
		if int64(len(avail)) < total {
			if len(out) > 0 {
				break
			}
			if err := r.fill(seq, off, limit, total); err != nil {
				return out, err
			}
			continue
		}
		payload := avail[frameHeaderSize:total:total]
		if !validPayload(payload, sum, r.salt) {
			if len(out) > 0 {
				break
			}
			return out, r.corrupt(seq, off, "checksum mismatch")
		}
		r.pos.Offset = off + total
		out = append(out, Entry{Pos: r.pos, Data: payload})
	}
	return out, nil
}

// openSegment points the reader's file at segment seq.
func (r *Reader) openSegment(seq uint64) error {
	if r.file != nil && r.fileSeq == seq {
		return nil
	}
	r.closeFile()
	f, err := os.Open(segmentPath(r.s.dir, seq))
	if err != nil {
		return fmt.Errorf("spool: open segment %d: %w", seq, err)
	}
	version, err := checkSegmentHeader(f, seq)
	if err != nil {
		f.Close()
		if errors.Is(err, ErrCorrupt) {
			r.logCorrupt(seq, 0, "bad segment header")
		}
		return err
	}
	r.file, r.fileSeq, r.salt = f, seq, segmentSalt(version, seq)
	return nil
}

func (r *Reader) closeFile() {
	if r.file != nil {
		r.file.Close()
		r.file = nil
	}
	r.buf, r.bufOff = r.buf[:0], 0
}

// fill reads segment bytes from off into the read-ahead buffer: at least
// need bytes, up to readChunk, never past the durable limit.
// KeepEntries makes the Data of every entry Next returns from now on valid for
// as long as the caller holds it: each read goes to a new buffer instead of
// over the previous one. A consumer that keeps entries across reads (batching
// them) then needs no copy of its own. Call it before the first Next.
func (r *Reader) KeepEntries() { r.keep = true }

func (r *Reader) fill(seq uint64, off, limit, need int64) error {
	n := min(limit-off, max(readChunk, need))
	if r.keep || int64(cap(r.buf)) < n || (cap(r.buf) > 4*readChunk && n <= readChunk) {
		// Grow for a large frame; shrink back after one so a single big
		// entry does not pin its buffer for the reader's lifetime.
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	if _, err := r.file.ReadAt(r.buf, off); err != nil {
		r.buf, r.bufOff = r.buf[:0], 0
		return fmt.Errorf("spool: read segment %d at offset %d: %w", seq, off, err)
	}
	r.bufOff = off
	return nil
}

func (r *Reader) corrupt(seq uint64, off int64, reason string) error {
	r.logCorrupt(seq, off, reason)
	return fmt.Errorf("%w: segment %d offset %d: %s", ErrCorrupt, seq, off, reason)
}

func (r *Reader) logCorrupt(seq uint64, off int64, reason string) {
	if p := (Position{seq, off}); p != r.badPos {
		r.badPos = p
		r.s.log.Error("spool: corrupt record, consumer is stuck until it skips the segment",
			"consumer", r.name, "segment", seq, "offset", off, "reason", reason)
	}
}

// SkipSegment moves the read position past the rest of the current segment:
// to the start of the next one, or to the durable end if it is the active
// segment. It is the way past a corrupt record reported by Next; the skipped
// entries are lost for this consumer once the returned position is
// committed. It returns the new position and the bytes skipped.
func (r *Reader) SkipSegment() (Position, int64) {
	s := r.s
	s.mu.Lock()
	segs := s.segments
	i := sort.Search(len(segs), func(i int) bool { return segs[i].seq >= r.pos.Segment })
	if i == len(segs) {
		s.mu.Unlock()
		return r.pos, 0
	}
	from := r.pos
	if segs[i].seq != from.Segment || from.Offset < segmentHeaderSize {
		from = Position{Segment: segs[i].seq, Offset: segmentHeaderSize}
	}
	skipped := max(segs[i].size-from.Offset, 0)
	if i == len(segs)-1 {
		r.pos = Position{Segment: segs[i].seq, Offset: max(segs[i].size, from.Offset)}
	} else {
		r.pos = Position{Segment: segs[i+1].seq, Offset: segmentHeaderSize}
	}
	s.mu.Unlock()
	s.log.Warn("spool: consumer skipped rest of segment", "consumer", r.name,
		"segment", from.Segment, "offset", from.Offset, "skipped_bytes", skipped)
	return r.pos, skipped
}

// Rewind moves the read position back to the committed cursor, so the
// entries after it are read again (after a failed insert, say).
func (r *Reader) Rewind() {
	r.pos = r.Committed()
}

// Committed returns the consumer's committed cursor.
func (r *Reader) Committed() Position {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return r.s.cursors[r.name]
}

// Commit durably records that the entries up to pos are consumed, then
// deletes the segments every consumer has passed. pos is normally the Pos of
// the last entry processed; it may not go backwards or past the durable end.
func (r *Reader) Commit(pos Position) error {
	r.commitMu.Lock()
	defer r.commitMu.Unlock()
	s := r.s
	s.mu.Lock()
	cur, end := s.cursors[r.name], s.endLocked()
	s.mu.Unlock()
	switch {
	case pos == cur:
		return nil
	case pos.Compare(cur) < 0:
		return fmt.Errorf("spool: commit %q at %v: behind committed cursor %v", r.name, pos, cur)
	case pos.Compare(end) > 0:
		return fmt.Errorf("spool: commit %q at %v: beyond end of log %v", r.name, pos, end)
	}
	if err := storeCursor(s.dir, r.name, pos); err != nil {
		return fmt.Errorf("spool: commit %q at %v: %w", r.name, pos, err)
	}
	s.mu.Lock()
	s.cursors[r.name] = pos
	s.mu.Unlock()
	s.collect()
	return nil
}

// Backlog returns the bytes (frames, without segment headers) between the
// committed cursor and the durable end of the log.
func (r *Reader) Backlog() int64 {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cursors[r.name]
	var n int64
	for _, sg := range s.segments {
		switch {
		case sg.seq < c.Segment:
		case sg.seq == c.Segment:
			n += max(sg.size-max(c.Offset, segmentHeaderSize), 0)
		default:
			n += sg.size - segmentHeaderSize
		}
	}
	return n
}

// Close releases the reader's file and lets Spool.Reader open the consumer
// again. The committed cursor is unaffected.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.closeFile()
	r.s.mu.Lock()
	delete(r.s.readers, r.name)
	r.s.mu.Unlock()
	return nil
}
