package proxy

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/posthog"
)

// errBudgetFull refuses a request whose bytes found no room in the shared
// in-flight budget within the wait; it is answered 429 with Retry-After.
var errBudgetFull = errors.New("server busy: too many request bytes in flight")

// byteBudget bounds the bytes held by requests in flight across every
// connection: bodies as they are read and capture payloads as they decode.
type byteBudget struct {
	max  int64
	wait time.Duration

	mu   sync.Mutex
	used int64
	// wake is closed by the next release, made only when someone waits:
	// a release with nobody waiting allocates nothing.
	wake chan struct{}
}

func newByteBudget(max int64, wait time.Duration) *byteBudget {
	return &byteBudget{max: max, wait: wait}
}

// acquire takes n bytes, waiting up to the budget's wait for room.
func (b *byteBudget) acquire(n int64) error {
	if n > b.max {
		// No wait would help: the request is too large for this process.
		return fmt.Errorf("reserve %d bytes of an in-flight bound of %d: %w", n, b.max, posthog.ErrTooLarge)
	}
	var timer *time.Timer
	for {
		b.mu.Lock()
		if b.used+n <= b.max {
			b.used += n
			b.mu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			return nil
		}
		if b.wake == nil {
			b.wake = make(chan struct{})
		}
		wake := b.wake
		b.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(b.wait)
		}
		select {
		case <-wake:
		case <-timer.C:
			return fmt.Errorf("reserve %d bytes: %w", n, errBudgetFull)
		}
	}
}

// release returns n bytes and wakes every waiter to try again.
func (b *byteBudget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	if b.wake != nil {
		close(b.wake)
		b.wake = nil
	}
	b.mu.Unlock()
}

// inUse is the number of bytes reserved now.
func (b *byteBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// lease is one request's share of the budget, returned whole when the
// request ends. A request is served by one goroutine, so it needs no lock.
type lease struct {
	budget   *byteBudget
	held     int64
	reserved int64 // everything the request reserved, kept after end
	// capture is the lease as a capture decoder sees it (forCapture), kept
	// here so that a request allocates one, not two.
	capture captureBudget
}

var _ posthog.Budget = (*lease)(nil)

// Reserve charges n more bytes to the request.
func (l *lease) Reserve(n int) error {
	if n <= 0 {
		return nil
	}
	if err := l.budget.acquire(int64(n)); err != nil {
		return err
	}
	l.held += int64(n)
	l.reserved += int64(n)
	return nil
}

// end returns everything the request held.
func (l *lease) end() {
	l.budget.release(l.held)
	l.held = 0
}
