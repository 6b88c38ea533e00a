package engine

import (
	"context"
	"sync"
	"time"

	"github.com/hogsend/hogsend-proxy/sinks/spool"
)

// window tracks the spool entries read and not yet fully delivered, in
// spool order, so that the cursor never passes an undelivered call. An
// entry holds a slot for itself and one per call (at most all of them)
// until it leaves the window: reading stops while the engine lags by that
// much.
type window struct {
	slots chan struct{}

	mu      sync.Mutex
	entries []*entry // oldest first
	doneTo  spool.Position
	hasDone bool
	calls   int // calls read and not yet delivered
}

// entry is one spool entry in the window.
type entry struct {
	pos       spool.Position
	remaining int   // its calls not yet delivered
	at        int64 // when the proxy accepted it (Unix ms)
	slots     int
}

func (w *window) init(size int) { w.slots = make(chan struct{}, size) }

// add takes slots for an entry of n calls, waiting for room.
func (w *window) add(ctx context.Context, pos spool.Position, n int, at int64) (*entry, error) {
	en := &entry{pos: pos, remaining: n, at: at, slots: min(n+1, cap(w.slots))}
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
	w.calls += n
	w.advance()
	w.mu.Unlock()
	return en, nil
}

// finish marks one call of en delivered.
func (w *window) finish(en *entry) {
	w.mu.Lock()
	en.remaining--
	w.calls--
	w.advance()
	w.mu.Unlock()
}

// advance drops the delivered entries at the front.
func (w *window) advance() {
	n := 0
	for n < len(w.entries) && w.entries[n].remaining == 0 {
		w.doneTo, w.hasDone = w.entries[n].pos, true
		w.release(w.entries[n].slots)
		n++
	}
	clear(w.entries[:n])
	w.entries = w.entries[n:]
}

func (w *window) release(n int) {
	for range n {
		<-w.slots
	}
}

// done is the position everything before which is delivered.
func (w *window) done() (spool.Position, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.doneTo, w.hasDone
}

// lag is the calls not yet delivered and the age of the oldest entry
// holding one.
func (w *window) lag(now time.Time) (calls int, age time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.entries) == 0 {
		return 0, 0
	}
	return w.calls, max(0, now.Sub(time.UnixMilli(w.entries[0].at)))
}
