package spool

import (
	"errors"
	"io/fs"
	"os"
)

// Retention: a sealed segment is deleted once every consumer's committed
// cursor is at or past its end. The active segment is never deleted while
// active; when the spool is full and all consumers have read the whole
// active segment, the writer seals it early (reclaimActive) so a MaxBytes
// smaller than a segment cannot wedge the spool.

// minCursorLocked returns the slowest consumer's committed cursor. s.mu must
// be held and there must be at least one consumer.
func (s *Spool) minCursorLocked() Position {
	min := s.cursors[s.consumers[0]]
	for _, name := range s.consumers[1:] {
		if p := s.cursors[name]; p.Compare(min) < 0 {
			min = p
		}
	}
	return min
}

// collect deletes the sealed segments every consumer has passed.
func (s *Spool) collect() {
	if len(s.consumers) == 0 {
		return
	}
	s.deleteMu.Lock()
	defer s.deleteMu.Unlock()

	s.mu.Lock()
	min := s.minCursorLocked()
	var victims []segment
	for _, sg := range s.segments[:len(s.segments)-1] {
		if (Position{sg.seq, sg.size}).Compare(min) > 0 {
			break
		}
		victims = append(victims, sg)
	}
	s.mu.Unlock()

	removed, freed := 0, int64(0)
	for _, sg := range victims {
		if s.recycle(sg.seq) {
			removed++
			freed += sg.size
			continue
		}
		// Readers may still hold the file open; on unix that is fine, the
		// data stays readable until they close it.
		err := os.Remove(segmentPath(s.dir, sg.seq))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("spool: delete consumed segment, will retry on next commit", "segment", sg.seq, "err", err)
			break
		}
		removed++
		freed += sg.size
	}
	if removed == 0 {
		return
	}
	// Only collect removes segments and it holds deleteMu, so the victims
	// are still the head of the list even if the writer appended since.
	s.mu.Lock()
	s.segments = s.segments[removed:]
	s.mu.Unlock()
	s.diskBytes.Add(-freed)
}

// reclaimActive seals the active segment if every consumer has consumed all
// of it, and deletes it. It runs on the writer goroutine with nothing pending.
func (s *Spool) reclaimActive() bool {
	if s.activeSize <= segmentHeaderSize || len(s.consumers) == 0 {
		return false
	}
	s.mu.Lock()
	min := s.minCursorLocked()
	s.mu.Unlock()
	if min.Compare(Position{s.activeSeq, s.activeSize}) < 0 {
		return false
	}
	if err := s.roll(); err != nil {
		s.fail(err)
		return false
	}
	s.collect()
	return true
}

// maxFreeFiles bounds the consumed segment files kept for reuse. A consumer
// commits about once a second and the writer rolls a segment every second or
// less under load, so each commit frees one or two segments at a time.
const maxFreeFiles = 2

// recycle keeps consumed segment seq as a free file for a later segment while
// there are fewer than maxFreeFiles (see reuseSegment). Every consumer's committed
// cursor is past it, and a reader never reads behind its committed cursor,
// so no reader reads it again, even through a file it still holds open.
func (s *Spool) recycle(seq uint64) bool {
	s.freeMu.Lock()
	defer s.freeMu.Unlock()
	path := segmentPath(s.dir, seq)
	if len(s.freeFiles) >= maxFreeFiles || (s.maxBytes > 0 && s.maxBytes < 8*s.segmentBytes) || !recyclable(path) {
		return false
	}
	free := freePath(s.dir, seq)
	if err := os.Rename(path, free); err != nil {
		s.log.Warn("spool: keep consumed segment for reuse", "segment", seq, "err", err)
		return false
	}
	s.freeFiles = append(s.freeFiles, free)
	return true
}
