package pace

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

type fixedPressure struct{ on atomic.Bool }

func (f *fixedPressure) Judge() Verdict {
	if f.on.Load() {
		return Saturated
	}
	return Calm
}

// The limit halves down to Min under pressure and doubles back to Max
// without it; Acquire waits beyond the limit and goes on once there is room.
func TestGateYieldsAndRecovers(t *testing.T) {
	g := NewGate(2, 64)
	want := []int{32, 16, 8, 4, 2, 2}
	for i, w := range want {
		g.adjust(Saturated)
		if got := g.Limit(); got != w {
			t.Fatalf("after %d saturated intervals: limit %d, want %d", i+1, got, w)
		}
	}
	for range 2 {
		if err := g.Acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	third := make(chan error, 1)
	go func() { third <- g.Acquire(context.Background()) }()
	select {
	case err := <-third:
		t.Fatalf("a third delivery ran at limit 2: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	g.adjust(Calm) // 4: room for the third
	if err := <-third; err != nil {
		t.Fatal(err)
	}
	g.adjust(Hold)
	if got := g.Limit(); got != 4 {
		t.Fatalf("hold changed the limit to %d", got)
	}
	for _, w := range []int{8, 16, 32, 64, 64} {
		g.adjust(Calm)
		if got := g.Limit(); got != w {
			t.Fatalf("limit %d, want %d", got, w)
		}
	}
}

// A waiting Acquire ends with its context; a Release lets the next one in.
func TestGateAcquireEndsWithContext(t *testing.T) {
	g := NewGate(1, 1)
	if err := g.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Acquire(ctx) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire after cancel: %v", err)
	}
	next := make(chan error, 1)
	go func() { next <- g.Acquire(context.Background()) }()
	g.Release()
	if err := <-next; err != nil {
		t.Fatal(err)
	}
}

// The pacer applies each judgement to every gate.
func TestPacerAdjustsGates(t *testing.T) {
	p := &fixedPressure{}
	p.on.Store(true)
	a, b := NewGate(1, 8), NewGate(2, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go NewPacer(p, time.Millisecond, a, b).Run(ctx)
	waitFor(t, func() bool { return a.Limit() == 1 && b.Limit() == 2 })
	p.on.Store(false)
	waitFor(t, func() bool { return a.Limit() == 8 && b.Limit() == 4 })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// A saturated process yields only while the foreground is busy.
func TestWhileBusy(t *testing.T) {
	p := &fixedPressure{}
	p.on.Store(true)
	var busy atomic.Bool
	w := WhileBusy(p, busy.Load)
	if v := w.Judge(); v != Calm {
		t.Fatalf("saturated, foreground idle: %d, want calm", v)
	}
	busy.Store(true)
	if v := w.Judge(); v != Saturated {
		t.Fatalf("saturated, foreground busy: %d, want saturated", v)
	}
}
