// Package backoff is what the writer, the schema migration, the
// conversions, the hand-off and the mirror share to retry: a sleep that ends
// with its context, a jittered exponential delay, and Retry-After.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Sleep waits d, or until ctx ends and then returns its error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Jittered is the capped exponential delay of retry round n with full
// jitter over its upper half, so that clients retried together spread.
func Jittered(initial, maxWait time.Duration, n int) time.Duration {
	d := initial
	for i := 0; i < n && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	return d/2 + rand.N(d/2+1)
}
