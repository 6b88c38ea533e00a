package spool

import (
	"context"
	"sync"
	"time"
)

// Window is a consumer's entries read and not yet fully delivered, in log
// order, for consumers that deliver an entry's items out of order (in
// parallel): the cursor may only pass what Done reports. An entry holds a
// slot for itself and one per item (at most all of them) until it leaves
// the window, so reading stops while delivery lags by that much.
type Window struct {
	slots chan struct{}

	mu      sync.Mutex
	entries []*WindowEntry // oldest first
	doneTo  Position
	hasDone bool
	items   int // items read and not yet delivered
}

// WindowEntry is one log entry in a Window.
type WindowEntry struct {
	pos       Position
	remaining int   // its items not yet delivered
	at        int64 // when it was written (Unix ms)
	slots     int
}

// At is when the entry was written (Unix ms), as Add was told.
func (e *WindowEntry) At() int64 { return e.at }

// NewWindow returns a window of size slots.
func NewWindow(size int) *Window { return &Window{slots: make(chan struct{}, size)} }

// Add takes slots for the entry ending at pos, holding n items, written at
// at (Unix ms), waiting for room.
func (w *Window) Add(ctx context.Context, pos Position, n int, at int64) (*WindowEntry, error) {
	en := &WindowEntry{pos: pos, remaining: n, at: at, slots: min(n+1, cap(w.slots))}
	for i := range en.slots {
		select {
		case w.slots <- struct{}{}:
		case <-ctx.Done():
			w.release(i)
			return nil, ctx.Err()
		}
	}
	w.mu.Lock()
	w.entries = append(w.entries, en)
	w.items += n
	w.advance()
	w.mu.Unlock()
	return en, nil
}

// Finish marks one item of en delivered.
func (w *Window) Finish(en *WindowEntry) {
	w.mu.Lock()
	en.remaining--
	w.items--
	w.advance()
	w.mu.Unlock()
}

// advance drops the delivered entries at the front.
func (w *Window) advance() {
	n := 0
	for n < len(w.entries) && w.entries[n].remaining == 0 {
		w.doneTo, w.hasDone = w.entries[n].pos, true
		w.release(w.entries[n].slots)
		n++
	}
	clear(w.entries[:n])
	w.entries = w.entries[n:]
}

func (w *Window) release(n int) {
	for range n {
		<-w.slots
	}
}

// Done is the position everything before which is delivered; false
// before the first entry is.
func (w *Window) Done() (Position, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.doneTo, w.hasDone
}

// Lag is the items not yet delivered and the age of the oldest entry
// holding one.
func (w *Window) Lag(now time.Time) (items int, age time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.entries) == 0 {
		return 0, 0
	}
	return w.items, max(0, now.Sub(time.UnixMilli(w.entries[0].at)))
}

// Commit moves r's cursor to what the window has delivered, when that
// moved since the last commit.
func (w *Window) Commit(r *Reader) error {
	pos, ok := w.Done()
	if !ok || pos == r.Committed() {
		return nil
	}
	return r.Commit(pos)
}
