package proxy

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/posthog"
)

// Decoding and parsing cost CPU in proportion to the bytes a payload
// decodes to. A few large payloads at once (bombs decoding up to their cap,
// batches past the event cap) would take every core from the small
// requests that are nearly all legitimate traffic, so they take turns: a
// capture request whose body, or whose decoded payload, passes heavyBytes
// first waits for one of a few heavy lanes (half the cores), and large
// payloads together never hold more than those cores
// (docs/operations.md § Limits).
const heavyBytes = 1 << 20

// errHeavyBusy refuses a large payload that found no free heavy lane within
// the wait; it is answered 429 with Retry-After.
var errHeavyBusy = errors.New("server busy: too many large payloads in flight")

// heavyLanes is a counting semaphore with a bounded wait.
type heavyLanes struct {
	slots chan struct{}
	wait  time.Duration
}

func newHeavyLanes(n int, wait time.Duration) *heavyLanes {
	return &heavyLanes{slots: make(chan struct{}, max(1, n)), wait: wait}
}

// enter takes a lane, waiting up to the lanes' wait for one.
func (h *heavyLanes) enter() error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-t.C:
		return fmt.Errorf("wait %s for a heavy lane: %w", h.wait, errHeavyBusy)
	}
}

func (h *heavyLanes) leave() { <-h.slots }

// busy is the number of lanes taken.
func (h *heavyLanes) busy() int { return len(h.slots) }

// captureBudget is a capture request's lease as its decoder sees it: the
// request enters a heavy lane once its body and decoded bytes pass
// heavyBytes, before it decodes further, and leaves it when it ends.
type captureBudget struct {
	l      *lease
	lanes  *heavyLanes
	bytes  int // the body's and the decoded stages' bytes so far
	inLane bool
}

var (
	_ posthog.Budget  = (*captureBudget)(nil)
	_ posthog.Yielder = (*captureBudget)(nil)
)

// Reserve charges n more decoded bytes to the request.
func (b *captureBudget) Reserve(n int) error {
	if err := b.admit(n); err != nil {
		return err
	}
	return b.l.Reserve(n)
}

// Yield lets the requests waiting to run go first while this one decodes a
// large payload: it goes to the back of the Go scheduler's queue, so a
// heavy lane gets the CPU the light requests leave.
func (b *captureBudget) Yield() {
	if b.inLane {
		runtime.Gosched()
	}
}

// admit counts n more bytes, entering a lane when they pass heavyBytes.
func (b *captureBudget) admit(n int) error {
	b.bytes += n
	if b.inLane || b.bytes <= heavyBytes {
		return nil
	}
	if err := b.lanes.enter(); err != nil {
		return err
	}
	b.inLane = true
	return nil
}

// forCapture is l as a capture request's decoder budget, taking lanes.
func (l *lease) forCapture(lanes *heavyLanes) *captureBudget {
	l.capture = captureBudget{l: l, lanes: lanes}
	return &l.capture
}

// end leaves the request's lane, if it took one.
func (b *captureBudget) end() {
	if b.inLane {
		b.lanes.leave()
		b.inLane = false
	}
}
