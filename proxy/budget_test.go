package proxy

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/translate/posthog"
)

// TestBudget: reservations fit within the bound, wait for a release, and
// fail with errBudgetFull after the wait; a lease returns all it held.
func TestBudget(t *testing.T) {
	b := newByteBudget(100, 50*time.Millisecond)
	first, second := &lease{budget: b}, &lease{budget: b}
	if err := first.Reserve(60); err != nil {
		t.Fatal(err)
	}
	if err := first.Reserve(30); err != nil {
		t.Fatal(err)
	}
	if err := second.Reserve(20); !errors.Is(err, errBudgetFull) {
		t.Fatalf("over the bound: %v", err)
	}
	// More than the whole budget can never fit: a permanent 413, not a 429.
	if err := second.Reserve(101); !errors.Is(err, posthog.ErrTooLarge) || errors.Is(err, errBudgetFull) {
		t.Fatalf("over the whole budget: %v", err)
	}
	if got := b.inUse(); got != 90 {
		t.Fatalf("in use %d, want 90", got)
	}
	// A waiter gets room as soon as it is released.
	slow := newByteBudget(100, 5*time.Second)
	holder := &lease{budget: slow}
	holder.Reserve(100)
	time.AfterFunc(20*time.Millisecond, holder.end)
	if err := (&lease{budget: slow}).Reserve(50); err != nil {
		t.Fatalf("waiting for a release: %v", err)
	}
	first.end()
	if got := b.inUse(); got != 0 {
		t.Fatalf("in use %d after the lease ended", got)
	}
	if err := second.Reserve(100); err != nil {
		t.Fatalf("after the release: %v", err)
	}
}

// TestCaptureBudgetErrorIs429: a decoder's wrapped budget error answers 429
// with Retry-After in capture's shape, not 400 or 503.
func TestCaptureBudgetErrorIs429(t *testing.T) {
	ts := newTestServer(t, Options{}, nil, nil)
	budget := newByteBudget(10, time.Millisecond)
	(&lease{budget: budget}).Reserve(10)
	reserveErr := (&lease{budget: budget}).Reserve(5)
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/batch/")
	ts.srv.captureFailed(&ctx, fmt.Errorf("decode gzip body: %w", reserveErr))
	body := string(ctx.Response.Body())
	if ctx.Response.StatusCode() != 429 || string(ctx.Response.Header.Peek("Retry-After")) != "1" ||
		!strings.Contains(body, `"code":"server_busy"`) {
		t.Fatalf("%d %s", ctx.Response.StatusCode(), body)
	}
}

// Several waiters all wake on one release and take what fits; a release
// with nobody waiting allocates nothing.
func TestBudgetWakesEveryWaiter(t *testing.T) {
	b := newByteBudget(100, 5*time.Second)
	holder := &lease{budget: b}
	holder.Reserve(100)
	got := make(chan error, 4)
	for range 4 {
		go func() { got <- (&lease{budget: b}).Reserve(25) }()
	}
	time.Sleep(20 * time.Millisecond) // the four are waiting
	select {
	case err := <-got:
		t.Fatalf("a waiter got an answer (%v) while the budget was full", err)
	default:
	}
	holder.end()
	for range 4 {
		if err := <-got; err != nil {
			t.Fatalf("waiter: %v", err)
		}
	}
	if used := b.inUse(); used != 100 {
		t.Fatalf("in use %d, want the four waiters' 100", used)
	}
	idle := newByteBudget(100, time.Second)
	if allocs := testing.AllocsPerRun(100, func() {
		if err := idle.acquire(10); err != nil {
			t.Fatal(err)
		}
		idle.release(10)
	}); allocs != 0 {
		t.Errorf("%v allocations an acquire and release with nobody waiting, want 0", allocs)
	}
}

// Buffers go back to their class and come out again without allocating.
func TestBodyPoolReuses(t *testing.T) {
	var p bodyPool
	b := p.get(3000)
	if cap(b) != 4096 || len(b) != 0 {
		t.Fatalf("get(3000): len %d cap %d, want an empty 4096", len(b), cap(b))
	}
	p.put(append(b, "body"...))
	if allocs := testing.AllocsPerRun(100, func() { p.put(p.get(3000)) }); allocs != 0 && !raceEnabled {
		t.Errorf("%v allocations a get and put, want 0", allocs)
	}
	if again := p.get(4096); cap(again) != 4096 || len(again) != 0 {
		t.Fatalf("get(4096): len %d cap %d, want an empty pooled 4096", len(again), cap(again))
	}
	p.put(make([]byte, 0, 3000)) // not a class's size: left to the GC
	if odd := p.get(3000); cap(odd) != 4096 {
		t.Fatalf("a buffer of a size no class has came back: cap %d", cap(odd))
	}
}
