package pace

import (
	"context"
	"sync"
	"time"
)

// Budget bounds the units (events) a consumer may send per second, for a
// consumer whose requests are large: a mirror batch of hundreds of events
// costs its CPU before the request, so bounding requests in flight would
// not make it yield. Its rate is halved each interval the process is
// saturated (from what passed in the last interval, down to Min) and
// doubled each calm interval, up to a rate no consumer reaches.
type Budget struct {
	min float64

	mu     sync.Mutex
	rate   float64 // units a second
	tokens float64
	last   time.Time // the last refill
	passed float64   // units taken since the last adjustment
	judged time.Time // the last adjustment
}

// unbounded is a rate no consumer reaches: the budget then never waits.
const unbounded = 1e9

// burst is how many seconds of the rate may pass at once.
const burst = 0.1

// NewBudget starts unbounded; min is the least units a second it allows.
func NewBudget(min float64) *Budget {
	now := time.Now()
	return &Budget{min: max(min, 1), rate: unbounded, last: now, judged: now}
}

// Wait takes n units, waiting for the rate to allow them or for ctx to end.
func (b *Budget) Wait(ctx context.Context, n int) error {
	for {
		wait := b.take(float64(n))
		if wait <= 0 {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// take takes n units when the bucket holds them, else says how long to
// wait. A request larger than the burst passes once the bucket is full,
// leaving it in debt.
func (b *Budget) take(n float64) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	capacity := max(b.rate*burst, 1)
	b.tokens = min(capacity, b.tokens+b.rate*now.Sub(b.last).Seconds())
	b.last = now
	if b.rate >= unbounded {
		b.tokens = capacity
		b.passed += n
		return 0
	}
	if b.tokens >= min(n, capacity) {
		b.tokens -= n
		b.passed += n
		return 0
	}
	need := min(n, capacity) - b.tokens
	return time.Duration(need / b.rate * float64(time.Second))
}

// Rate is the units a second the budget allows now.
func (b *Budget) Rate() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rate
}

// adjust halves the rate when saturated, from what passed since the last
// adjustment, and doubles it when calm.
func (b *Budget) adjust(v Verdict) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	observed := b.passed / max(now.Sub(b.judged).Seconds(), 1e-3)
	b.passed, b.judged = 0, now
	switch v {
	case Saturated:
		b.rate = max(b.min, min(b.rate, observed)/2)
	case Calm:
		b.rate = min(unbounded, b.rate*2)
	}
}
