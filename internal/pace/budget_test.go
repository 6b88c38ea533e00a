package pace

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Saturation halves what passed down to Min, and the budget then holds a
// sender to that rate; calm doubles it back until it no longer waits.
func TestBudgetYieldsAndRecovers(t *testing.T) {
	b := NewBudget(1000)
	ctx := context.Background()
	if err := b.Wait(ctx, 50_000); err != nil {
		t.Fatal(err)
	}
	b.adjust(Saturated)
	if r := b.Rate(); r >= unbounded || r < 1000 {
		t.Fatalf("rate after saturation %.0f, want half of what passed, at least 1000", r)
	}
	for range 40 {
		b.adjust(Saturated)
	}
	if r := b.Rate(); r != 1000 {
		t.Fatalf("rate %.0f after long saturation, want the minimum 1000", r)
	}
	// At 1000 a second, 300 units in batches of 100 take at least 0.1 s
	// beyond the burst.
	start := time.Now()
	for range 3 {
		if err := b.Wait(ctx, 100); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Fatalf("300 units at 1000/s passed in %s", took)
	}
	for range 30 {
		b.adjust(Calm)
	}
	if r := b.Rate(); r < unbounded {
		t.Fatalf("rate %.0f after long calm, want unbounded", r)
	}
}

// A waiting sender stops when its context ends.
func TestBudgetWaitEndsWithContext(t *testing.T) {
	b := NewBudget(1)
	b.adjust(Saturated)
	_ = b.Wait(context.Background(), 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Wait(ctx, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with an ended context: %v", err)
	}
}
