package spool

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// Group commit: Append frames its payload (so checksums are computed on the
// callers' goroutines, in parallel) and queues it; one writer goroutine takes
// everything queued, writes it with one WriteAt and makes it durable with one
// fsync, then wakes every waiter. While an fsync is in flight the next batch
// queues up, so the fsync rate stays bounded by the disk, not by the request
// rate.

// States of an appendReq. A request can be cancelled by its caller only while
// it is still queued; once the writer has taken it, it will be written.
const (
	reqQueued int32 = iota
	reqTaken
	reqCancelled
)

// maxRetainedBatch bounds the group-commit buffer kept between batches, so one
// burst of large payloads does not pin memory forever.
const maxRetainedBatch = 4 << 20

// maxPooledFrame bounds the frame buffers recycled through reqPool.
const maxPooledFrame = 64 << 10

type appendReq struct {
	frame []byte
	state atomic.Int32
	done  chan struct{} // capacity 1; receives once the writer is done with the request
	pos   Position
	err   error
}

// Append writes payload to the log and returns after it is durable, with the
// position after it. The payload is copied; the caller may reuse it after
// Append returns. If ctx is done before the writer takes the payload, it is
// not written and ctx.Err() is returned; once taken it is written, and Append
// waits for the outcome.
func (s *Spool) Append(ctx context.Context, payload []byte) (Position, error) {
	if len(payload) == 0 {
		// A zero-length frame would be eight zero bytes (the CRC-32C of
		// nothing is 0), indistinguishable from the zero-filled tail a
		// crash can leave; refusing empty payloads keeps recovery sound.
		return Position{}, ErrEmpty
	}
	if len(payload) > MaxPayloadBytes {
		return Position{}, fmt.Errorf("%w: %d bytes, maximum %d", ErrTooLarge, len(payload), MaxPayloadBytes)
	}
	if err := s.Healthy(); err != nil {
		return Position{}, err
	}
	if err := ctx.Err(); err != nil {
		return Position{}, err
	}
	r := s.newReq(payload)

	s.qmu.Lock()
	if s.closing {
		s.qmu.Unlock()
		s.reqPool.Put(r)
		return Position{}, ErrClosed
	}
	s.queue = append(s.queue, r)
	s.qmu.Unlock()
	s.signal()

	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqCancelled) {
			// The writer still holds a pointer to r and will skip it;
			// r must not go back to the pool.
			return Position{}, ctx.Err()
		}
		<-r.done
	}
	pos, err := r.pos, r.err
	s.putReq(r)
	return pos, err
}

func (s *Spool) newReq(payload []byte) *appendReq {
	r, _ := s.reqPool.Get().(*appendReq)
	if r == nil {
		r = &appendReq{done: make(chan struct{}, 1)}
	}
	r.state.Store(reqQueued)
	r.frame = appendFrame(r.frame[:0], payload)
	return r
}

func (s *Spool) putReq(r *appendReq) {
	if cap(r.frame) > maxPooledFrame {
		r.frame = nil
	}
	r.pos, r.err = Position{}, nil
	s.reqPool.Put(r)
}

func (r *appendReq) finish(pos Position, err error) {
	r.pos, r.err = pos, err
	r.done <- struct{}{}
}

// signal tells the writer the queue may be non-empty. The channel holds one
// token, so a signal is never lost and never blocks.
func (s *Spool) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run is the writer goroutine. It exits once Close has been called and the
// queue is drained.
func (s *Spool) run() {
	defer close(s.writerDone)
	for range s.wake {
		for {
			s.qmu.Lock()
			batch := s.queue
			s.queue = s.spare[:0]
			closing := s.closing
			s.qmu.Unlock()
			if len(batch) == 0 {
				s.spare = batch
				if closing {
					return
				}
				break
			}
			s.commitBatch(batch)
			clear(batch)
			s.spare = batch[:0]
		}
	}
}

// commitBatch places every request that was not cancelled and flushes.
func (s *Spool) commitBatch(batch []*appendReq) {
	for _, r := range batch {
		if !r.state.CompareAndSwap(reqQueued, reqTaken) {
			continue
		}
		s.place(r)
	}
	s.flush()
	if cap(s.batch) > maxRetainedBatch {
		s.batch = nil
	}
}

// place adds r's frame to the pending write, or answers r right away when it
// cannot be written (unhealthy spool, ErrFull). Segment rolls flush first, so
// one write never spans two files.
func (s *Spool) place(r *appendReq) {
	if err := s.Healthy(); err != nil {
		r.finish(Position{}, err)
		return
	}
	n := int64(len(r.frame))
	end := s.activeSize + int64(len(s.batch))
	roll := end > segmentHeaderSize && end+n > s.segmentBytes
	if s.overflows(n, roll) {
		// The active segment is never deleted while it is active; if every
		// consumer has read all of it, seal it so it can go.
		s.flush()
		if s.reclaimActive() {
			end = s.activeSize
			roll = end > segmentHeaderSize && end+n > s.segmentBytes
		}
		if err := s.Healthy(); err != nil {
			r.finish(Position{}, err)
			return
		}
		if s.overflows(n, roll) {
			s.noteFull(1)
			r.finish(Position{}, ErrFull)
			return
		}
	}
	if roll {
		s.flush()
		if err := s.roll(); err != nil {
			if isNoSpace(err) {
				// No room for the next segment: refuse like the cap does.
				s.noteFull(1)
				r.finish(Position{}, fmt.Errorf("%w: %w", ErrFull, err))
				return
			}
			s.fail(err)
			r.finish(Position{}, err)
			return
		}
	}
	off := s.activeSize + int64(len(s.batch))
	at := len(s.batch)
	s.batch = append(s.batch, r.frame...)
	if s.activeSalt != 0 {
		// The frame's checksum was computed by Append, before the segment
		// it lands in was known.
		saltFrame(s.batch[at:], s.activeSalt)
	}
	r.pos = Position{Segment: s.activeSeq, Offset: off + n}
	s.piece = append(s.piece, r)
}

// overflows reports whether writing n more bytes (plus a new segment header
// when roll is set) would take the spool past MaxBytes.
func (s *Spool) overflows(n int64, roll bool) bool {
	if s.maxBytes <= 0 {
		return false
	}
	if roll {
		n += segmentHeaderSize
	}
	return s.diskBytes.Load()+int64(len(s.batch))+n > s.maxBytes
}

// flush writes the pending frames with one write and one fsync, then answers
// their requests. On failure the spool is marked unhealthy and the written
// bytes are truncated away, so no reader (now or after a restart) can see a
// half-written payload.
func (s *Spool) flush() {
	if len(s.piece) == 0 {
		return
	}
	off := s.activeSize
	start := time.Now()
	_, err := s.active.WriteAt(s.batch, off)
	if err != nil {
		err = fmt.Errorf("spool: write segment %d: %w", s.activeSeq, err)
	} else {
		s.syncs.Add(1)
		if err = s.syncData(s.active); err != nil {
			err = fmt.Errorf("spool: fsync segment %d: %w", s.activeSeq, err)
		}
	}
	if err != nil {
		terr := s.active.Truncate(off)
		if terr != nil {
			s.log.Error("spool: truncate after failed write", "segment", s.activeSeq, "offset", off, "err", terr)
		}
		// A full disk is like the byte cap: these appends fail and later ones
		// may succeed once space frees up. Any other write error, and every
		// fsync error (the page cache may have dropped data), is final.
		if terr != nil || !isNoSpace(err) {
			s.fail(err)
		} else {
			s.noteFull(len(s.piece))
			err = fmt.Errorf("%w: %w", ErrFull, err)
		}
		for _, r := range s.piece {
			r.finish(Position{}, err)
		}
	} else {
		s.activeSize += int64(len(s.batch))
		s.diskBytes.Add(int64(len(s.batch)))
		s.appends.Add(uint64(len(s.piece)))
		s.fullAt.Store(0)
		if observe := s.observeCommit.Load(); observe != nil {
			(*observe)(time.Since(start))
		}
		s.publish()
		for _, r := range s.piece {
			r.finish(r.pos, nil)
		}
	}
	s.batch = s.batch[:0]
	clear(s.piece)
	s.piece = s.piece[:0]
}

// publish makes the active segment's new durable size visible to readers and
// wakes those waiting for data.
func (s *Spool) publish() {
	s.mu.Lock()
	s.segments[len(s.segments)-1].size = s.activeSize
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
}

// roll seals the active segment and starts the next one. The pending batch
// must have been flushed.
func (s *Spool) roll() error {
	seq := s.activeSeq + 1
	if err := sealSegment(s.active, s.activeSize); err != nil {
		return fmt.Errorf("spool: seal segment %d: %w", s.activeSeq, err)
	}
	f, err := s.newSegment(seq)
	if err != nil {
		return err
	}
	old := s.active
	s.active, s.activeSeq, s.activeSize = f, seq, segmentHeaderSize
	s.activeSalt = segmentSalt(segmentVersion, seq)
	s.diskBytes.Add(segmentHeaderSize)
	s.mu.Lock()
	s.segments = append(s.segments, segment{seq: seq, size: segmentHeaderSize})
	s.mu.Unlock()
	// The old segment was fsynced by its last flush; a close error cannot
	// lose acknowledged data.
	if err := old.Close(); err != nil {
		s.log.Warn("spool: close sealed segment", "segment", seq-1, "err", err)
	}
	return nil
}

// newSegment starts segment seq in a free file when there is one (see
// recycle), else in a new file.
func (s *Spool) newSegment(seq uint64) (*os.File, error) {
	s.freeMu.Lock()
	free := ""
	if len(s.freeFiles) > 0 {
		free = s.freeFiles[0]
		s.freeFiles = s.freeFiles[1:]
	}
	s.freeMu.Unlock()
	if free != "" {
		f, err := reuseSegment(s.dir, free, seq)
		if err == nil {
			return f, nil
		}
		s.log.Warn("spool: could not reuse the free segment file; creating a new one", "err", err)
		os.Remove(free)
	}
	return createSegment(s.dir, seq)
}
