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
