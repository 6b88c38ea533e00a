package ingest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/native"
)

// flakyJournal fails the next n appends, then records payloads.
type flakyJournal struct {
	mu      sync.Mutex
	fail    int
	batches []canonical.Batch
}

func (j *flakyJournal) Append(_ context.Context, payload []byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.fail > 0 {
		j.fail--
		return errors.New("disk full")
	}
	var b canonical.Batch
	if err := canonical.DecodeBatch(append([]byte(nil), payload...), &b); err != nil {
		return err
	}
	j.batches = append(j.batches, b)
	return nil
}

func newTestIngestor(j Journal) *Ingestor {
	in := New(identity.NewMemory(), j, Options{IdempotencyWindow: time.Hour})
	return in
}

func TestTrackEventReleasesClaimWhenNotDurable(t *testing.T) {
	j := &flakyJournal{fail: 1}
	in := newTestIngestor(j)
	defer in.Close()
	ev, err := native.ParseEvent([]byte(`{"name":"paid","userId":"u1"}`), true, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.TrackEvent(context.Background(), ev, "api", false); !errors.Is(err, ErrNotDurable) || !IsUnavailable(err) {
		t.Fatalf("first attempt error = %v, want ErrNotDurable", err)
	}
	// The retry with the same key must be stored, not answered as a duplicate.
	res, err := in.TrackEvent(context.Background(), ev, "api", false)
	if err != nil || !res.Stored || res.ContactKey != "u1" {
		t.Fatalf("retry = %+v, %v; want stored", res, err)
	}
	res, err = in.TrackEvent(context.Background(), ev, "api", false)
	if err != nil || res.Stored {
		t.Fatalf("third = %+v, %v; want duplicate", res, err)
	}
	events := 0
	for _, b := range j.batches {
		events += len(b.Events)
	}
	if events != 1 {
		t.Fatalf("durable events = %d, want 1", events)
	}
}

func TestTrackEventRecords(t *testing.T) {
	j := &flakyJournal{}
	in := newTestIngestor(j)
	defer in.Close()
	fixed := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	in.now = func() time.Time { return fixed }
	ev, err := native.ParseEvent([]byte(`{"name":"paid","email":"A@B.co","value":12.345,"currency":"usd","eventProperties":{"x":1},"contactProperties":{"plan":"pro"}}`), true, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := in.TrackEvent(context.Background(), ev, "api", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(j.batches) != 1 {
		t.Fatalf("batches = %d", len(j.batches))
	}
	b := j.batches[0]
	if len(b.Events) != 1 || len(b.Contacts) != 1 {
		t.Fatalf("batch = %+v", b)
	}
	e, c := b.Events[0], b.Contacts[0]
	if e.Name != "paid" || e.UserID != res.ContactKey || e.ContactID != c.ID || string(e.Properties) != `{"x":1}` ||
		!e.HasValue || e.Value != 12.345 || e.Currency != "USD" || e.Source != "api" ||
		e.OccurredAt != fixed.UnixMilli() || e.ReceivedAt != fixed.UnixMilli() {
		t.Fatalf("event = %+v", e)
	}
	if c.Email != "a@b.co" || string(c.Properties) != `{"plan":"pro"}` || c.Source != "api" {
		t.Fatalf("contact = %+v props %s", c, c.Properties)
	}
	if res.ContactKey != c.ID.String() {
		t.Fatalf("contactKey = %s, want the id of an email-only contact", res.ContactKey)
	}
}

func TestEventContactRowsOncePerMinute(t *testing.T) {
	j := &flakyJournal{}
	in := newTestIngestor(j)
	defer in.Close()
	clock := time.Date(2026, 5, 1, 12, 0, 10, 0, time.UTC)
	in.now = func() time.Time { return clock }
	send := func(body string) {
		t.Helper()
		ev, err := native.ParseEvent([]byte(body), true, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := in.TrackEvent(context.Background(), ev, "api", false); err != nil {
			t.Fatal(err)
		}
	}
	contactRows := func() int {
		n := 0
		for _, b := range j.batches {
			n += len(b.Contacts)
		}
		return n
	}
	send(`{"name":"a","userId":"u1"}`) // created: row
	send(`{"name":"b","userId":"u1"}`) // same minute, nothing changed: no row
	if got := contactRows(); got != 1 {
		t.Fatalf("contact rows = %d, want 1", got)
	}
	send(`{"name":"c","userId":"u1","contactProperties":{"plan":"pro"}}`) // property change: row
	send(`{"name":"d","userId":"u1","email":"u1@example.com"}`)           // new key: row
	if got := contactRows(); got != 3 {
		t.Fatalf("contact rows = %d, want 3", got)
	}
	clock = clock.Add(time.Minute)
	send(`{"name":"e","userId":"u1"}`) // next minute: last_seen_at row
	if got := contactRows(); got != 4 {
		t.Fatalf("contact rows = %d, want 4", got)
	}
	if events := len(j.batches); events != 5 {
		t.Fatalf("batches = %d, want 5 (every event is stored)", events)
	}
}

// TestCrashAfterClaimNeverAnswersStored: an attempt that claimed its key and
// died before its records were durable leaves a pending claim; a retry is told
// to retry (503), never that the event was stored, and succeeds once the
// pending claim expires.
func TestCrashAfterClaimNeverAnswersStored(t *testing.T) {
	store := identity.NewMemory()
	j := &flakyJournal{}
	const window = 300 * time.Millisecond
	in := New(store, j, Options{IdempotencyWindow: window})
	defer in.Close()
	// The crashed attempt: claimed, never confirmed, nothing durable.
	res := make([]identity.ResolveResult, 1)
	crashed := identity.ResolveOp{Keys: []identity.Key{{Kind: "external", Value: "u1"}}, NewID: newContactID(),
		IdempotencyKey: "crash-key", IdempotencyWindow: window, Now: time.Now().UnixMilli()}
	if err := store.Resolve(context.Background(), []identity.ResolveOp{crashed}, res); err != nil || res[0].Err != nil {
		t.Fatal(err, res[0].Err)
	}
	ev, _ := native.ParseEvent([]byte(`{"name":"paid","userId":"u1"}`), true, "crash-key")
	if _, err := in.TrackEvent(context.Background(), ev, "api", false); !errors.Is(err, ErrClaimPending) || !IsUnavailable(err) {
		t.Fatalf("retry during the pending claim = %v, want ErrClaimPending (503)", err)
	}
	// Retries until the pending claim expires: each one is told to retry,
	// never that the event was stored, until one stores it.
	deadline := time.Now().Add(10 * window)
	for {
		r, err := in.TrackEvent(context.Background(), ev, "api", false)
		if err == nil && r.Stored {
			break
		}
		if !errors.Is(err, ErrClaimPending) || time.Now().After(deadline) {
			t.Fatalf("retry while the claim is pending = %+v, %v; want ErrClaimPending, then stored", r, err)
		}
		time.Sleep(window / 10)
	}
	if r, err := in.TrackEvent(context.Background(), ev, "api", false); err != nil || r.Stored {
		t.Fatalf("after the stored retry = %+v, %v; want a duplicate", r, err)
	}
	events := 0
	for _, b := range j.batches {
		events += len(b.Events)
	}
	if events != 1 {
		t.Fatalf("events stored = %d, want 1", events)
	}
}
