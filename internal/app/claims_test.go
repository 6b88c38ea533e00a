package app

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/config"
	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// A run killed between an entry's durable write and its claim's
// confirmation leaves the claim pending; the next run (or a drain)
// confirms it from the spool, so a retry is a duplicate instead of a second
// stored event once the pending claim would have expired.
func TestConfirmSpooledClaims(t *testing.T) {
	ctx := context.Background()
	store, err := identity.NewRedis(ctx, testenv.Redis(t).RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	sp, err := spool.Open(spool.Options{Dir: t.TempDir(), Consumers: []string{"clickhouse"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	r, err := sp.Reader("clickhouse")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	claim := func() identity.ResolveResult {
		t.Helper()
		op := identity.ResolveOp{ClaimOnly: true, IdempotencyKey: "order-42", IdempotencyWindow: time.Hour, Now: now}
		res := make([]identity.ResolveResult, 1)
		if err := store.Resolve(ctx, []identity.ResolveOp{op}, res); err != nil {
			t.Fatal(err)
		}
		return res[0]
	}
	if res := claim(); res.Duplicate || res.ClaimPending {
		t.Fatalf("first claim: %+v", res)
	}
	b := canonical.Batch{Events: []canonical.Event{
		{ID: uuid.New(), Name: "order.paid", IdempotencyKey: "order-42", ReceivedAt: now},
		{ID: uuid.New(), Name: "expired", IdempotencyKey: "order-1", ReceivedAt: now - 2*time.Hour.Milliseconds()},
	}}
	if _, err := sp.Append(ctx, canonical.AppendBatch(nil, &b)); err != nil {
		t.Fatal(err)
	}
	if res := claim(); !res.ClaimPending {
		t.Fatalf("retry before the confirmation: %+v, want pending", res)
	}
	cfg := config.Config{IdempotencyWindow: time.Hour}
	n, err := confirmSpooledClaims(ctx, &cfg, store, r)
	if err != nil || n != 1 {
		t.Fatalf("confirmed %d keys (%v), want 1: the one inside its window", n, err)
	}
	if res := claim(); !res.Duplicate || res.ClaimPending {
		t.Fatalf("retry after the confirmation: %+v, want a duplicate", res)
	}
	if r.Backlog() == 0 {
		t.Fatal("the spool entry was consumed: the writer would never store it")
	}
}
