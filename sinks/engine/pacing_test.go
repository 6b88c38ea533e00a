package engine

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/internal/pace"
)

// saturated is a pressure that always reports a process short of CPU.
type saturated struct{}

func (saturated) Judge() pace.Verdict { return pace.Saturated }

// TestHandOffKeepsToItsBudget: with its records-a-second budget yielded to
// the floor, the hand-off sends no faster than the floor, then delivers
// everything once.
func TestHandOffKeepsToItsBudget(t *testing.T) {
	budget := pace.NewBudget(1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go pace.NewPacer(saturated{}, time.Millisecond, budget).Run(ctx)
	waitFor(t, "the budget at its floor", func() bool { return budget.Rate() == 1 })

	r := newRig(t, Options{Concurrency: 4, Budget: budget})
	const n = 3
	for i := range n {
		r.appendEvent("u"+string(rune('a'+i)), uuid.Must(uuid.NewV7()), "step", `{}`)
	}
	waitFor(t, "the first record at the engine", func() bool { return r.engine.StoredEvents() >= 1 })
	// At one a second the next token comes a second after the first; a
	// slow machine can only deliver fewer within the pause.
	time.Sleep(300 * time.Millisecond)
	if got := r.engine.StoredEvents(); got != 1 {
		t.Fatalf("%d records at the engine 0.3 s after the first, at a budget of 1 a second", got)
	}
	waitFor(t, "every record at the engine", func() bool { return r.engine.StoredEvents() == n })
	// The lane counts a delivery once the engine's answer is back, after
	// the engine stored the record.
	waitFor(t, "every delivery counted", func() bool { return r.h.Delivered() == n })
	if r.h.Delivered() != n || r.h.DeadLettered() != 0 {
		t.Fatalf("delivered %d dead-lettered %d", r.h.Delivered(), r.h.DeadLettered())
	}
}
