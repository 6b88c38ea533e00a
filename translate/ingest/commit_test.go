package ingest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// uuidBatch is a capture request of one event per uuid, all of one person.
func uuidBatch(uuids ...string) CaptureRequest {
	events := make([]string, len(uuids))
	for i, u := range uuids {
		events[i] = `{"event":"e","distinct_id":"anon-c","uuid":"` + u + `"}`
	}
	body := `{"api_key":"phc_x","batch":[` + strings.Join(events, ",") + `]}`
	return CaptureRequest{Path: "/batch", Body: []byte(body), ContentType: "application/json"}
}

func storedEvents(j *flakyJournal) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for _, b := range j.batches {
		n += len(b.Events)
	}
	return n
}

const (
	uuidA = "0193a1b2-0000-7000-8000-0000000000a1"
	uuidB = "0193a1b2-0000-7000-8000-0000000000b2"
	uuidC = "0193a1b2-0000-7000-8000-0000000000c3"
)

// TestCaptureReleasesClaimsWhenNotDurable: a capture the journal refuses
// answers ErrNotDurable and leaves no claim behind, so its retry stores
// every event and the retry after that stores none.
func TestCaptureReleasesClaimsWhenNotDurable(t *testing.T) {
	j := &flakyJournal{fail: 1}
	in := New(identity.NewMemory(), j, Options{IdempotencyWindow: time.Hour})
	defer in.Close()
	ctx := context.Background()
	if _, err := in.Capture(ctx, uuidBatch(uuidA, uuidB, uuidC), CaptureOptions{}); !errors.Is(err, ErrNotDurable) {
		t.Fatalf("capture with the journal failing = %v, want ErrNotDurable", err)
	}
	res, err := in.Capture(ctx, uuidBatch(uuidA, uuidB, uuidC), CaptureOptions{})
	if err != nil || res.Stored != 3 || res.Duplicates != 0 {
		t.Fatalf("retry = %+v, %v; want 3 stored", res, err)
	}
	res, err = in.Capture(ctx, uuidBatch(uuidA, uuidB, uuidC), CaptureOptions{})
	if err != nil || res.Stored != 0 || res.Duplicates != 3 {
		t.Fatalf("second retry = %+v, %v; want 3 duplicates", res, err)
	}
	if n := storedEvents(j); n != 3 {
		t.Fatalf("events in the journal = %d, want 3", n)
	}
}

// TestCaptureWaitsForAPendingClaim: when another attempt holds one uuid of
// a batch, none of the batch is stored (ErrClaimPending, a 503 the SDK
// retries) and the claims of the other events are released: they store on
// their own at once.
func TestCaptureWaitsForAPendingClaim(t *testing.T) {
	store := identity.NewMemory()
	j := &flakyJournal{}
	in := New(store, j, Options{IdempotencyWindow: time.Hour})
	defer in.Close()
	ctx := context.Background()
	held := identity.ResolveOp{ClaimOnly: true, IdempotencyKey: new(claimKeys).of(uuid.MustParse(uuidB)),
		IdempotencyWindow: time.Hour, Now: time.Now().UnixMilli()}
	res := make([]identity.ResolveResult, 1)
	if err := store.Resolve(ctx, []identity.ResolveOp{held}, res); err != nil || res[0].Err != nil || res[0].Duplicate || res[0].ClaimPending {
		t.Fatalf("the other attempt's claim = %+v, %v", res[0], err)
	}
	if _, err := in.Capture(ctx, uuidBatch(uuidA, uuidB, uuidC), CaptureOptions{}); !errors.Is(err, ErrClaimPending) || !IsUnavailable(err) {
		t.Fatalf("capture of a batch with a held uuid = %v, want ErrClaimPending", err)
	}
	if n := storedEvents(j); n != 0 {
		t.Fatalf("events stored while a uuid was held = %d, want 0", n)
	}
	out, err := in.Capture(ctx, uuidBatch(uuidA, uuidC), CaptureOptions{})
	if err != nil || out.Stored != 2 || out.Duplicates != 0 {
		t.Fatalf("the batch's other events alone = %+v, %v; want 2 stored", out, err)
	}
}
