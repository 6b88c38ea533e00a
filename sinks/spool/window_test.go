package spool

import (
	"context"
	"testing"
	"time"
)

// TestWindowDoneOnlyPastDeliveredEntries: Done never passes an entry with
// an item not yet delivered, whatever order items finish in; entries with
// no items pass as soon as those before them do.
func TestWindowDoneOnlyPastDeliveredEntries(t *testing.T) {
	w := NewWindow(64)
	ctx := context.Background()
	pos := func(i int64) Position { return Position{Segment: 1, Offset: i} }
	a, _ := w.Add(ctx, pos(10), 2, 1000)
	b, _ := w.Add(ctx, pos(20), 1, 2000)
	if _, err := w.Add(ctx, pos(30), 0, 3000); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.Done(); ok {
		t.Fatal("done before anything was delivered")
	}
	w.Finish(b)
	if _, ok := w.Done(); ok {
		t.Fatal("done past an entry still holding items")
	}
	if n, age := w.Lag(time.UnixMilli(5000)); n != 2 || age != 4*time.Second {
		t.Fatalf("lag %d items, %s; want 2 and the oldest entry's 4 s", n, age)
	}
	w.Finish(a)
	if p, ok := w.Done(); ok {
		t.Fatalf("done at %v with one of the first entry's items left", p)
	}
	w.Finish(a)
	if p, ok := w.Done(); !ok || p != pos(30) {
		t.Fatalf("done at %v %v, want past the empty last entry %v", p, ok, pos(30))
	}
	if n, age := w.Lag(time.UnixMilli(9000)); n != 0 || age != 0 {
		t.Fatalf("lag %d, %s with everything delivered", n, age)
	}
}

// TestWindowBoundsReading: Add waits while the window is full and gives
// up when its context ends; an entry larger than the window still fits.
func TestWindowBoundsReading(t *testing.T) {
	w := NewWindow(4)
	ctx := context.Background()
	big, err := w.Add(ctx, Position{Segment: 1, Offset: 1}, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := w.Add(short, Position{Segment: 1, Offset: 2}, 0, 0); err == nil {
		t.Fatal("added to a full window")
	}
	for range 10 {
		w.Finish(big)
	}
	if _, err := w.Add(ctx, Position{Segment: 1, Offset: 3}, 3, 0); err != nil {
		t.Fatalf("the window did not free its slots: %v", err)
	}
}
