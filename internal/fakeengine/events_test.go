package fakeengine

import (
	"strings"
	"testing"
)

// TestEventStoredAndAnswered: a secret key's event creates its contact, is
// stored with the key's source, currency upper-cased, and answered 202.
func TestEventStoredAndAnswered(t *testing.T) {
	f := start(t, Options{})
	r := f.send("POST", "/v1/events", f.ingest,
		`{"name":"order.paid","email":"Ada@Example.com","value":49.5,"currency":"usd","eventProperties":{"order":42},"contactProperties":{"plan":"pro"},"groups":{"company":"acme"},"source":"forged","timestamp":"2026-01-02T03:04:05.123456Z"}`)
	if r.status != 202 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	c, _ := f.Contact("ada@example.com")
	golden(t, "event_stored", r.body)
	if r.body != `{"stored":true,"exits":[],"contactKey":"`+c.ID+`"}` {
		t.Fatalf("answer %s, contact key is the id without userId or anonymousId", r.body)
	}
	evs := f.Events()
	if len(evs) != 1 || f.StoredEvents() != 1 {
		t.Fatalf("%d events", len(evs))
	}
	ev := evs[0]
	if ev.Seq != 1 || ev.Name != "order.paid" || ev.ContactID != c.ID || ev.UserID != c.ID || ev.Source != "api" ||
		ev.Currency != "USD" || ev.Value == nil || *ev.Value != 49.5 || ev.EventProperties["order"] != float64(42) ||
		ev.Groups["company"] != "acme" || ev.OccurredAt.Nanosecond() != 123456000 || c.Properties["plan"] != "pro" || c.Source != "api" {
		t.Fatalf("stored %+v, contact %+v", ev, c)
	}
	// Currency without a value is ignored; eventProperties default to {}.
	f.send("POST", "/v1/events", f.ingest, `{"name":"x","userId":"u_2","currency":"eur"}`)
	if ev := f.Events()[1]; ev.Currency != "" || ev.EventProperties == nil || len(ev.EventProperties) != 0 || ev.UserID != "u_2" {
		t.Fatalf("second event %+v", ev)
	}
}

// TestIdempotency: the header wins over the body, even empty; a key is one
// slot forever; a duplicate answers stored:false and still resolves
// (docs/contracts/hogsend-api.md §5.4).
func TestIdempotency(t *testing.T) {
	f := start(t, Options{})
	send := func(body string, headers ...string) map[string]any {
		t.Helper()
		r := f.send("POST", "/v1/events", f.ingest, body, headers...)
		if r.status != 202 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		return r.json(t)
	}
	if a := send(`{"name":"a","userId":"u_1","idempotencyKey":"body-1"}`, "Idempotency-Key", "head-1"); a["stored"] != true {
		t.Fatalf("first: %v", a)
	}
	if f.StoredCount("head-1") != 1 || f.StoredCount("body-1") != 0 {
		t.Fatal("the header's key is the one stored")
	}
	// Same key, another name and person: a duplicate, whose resolve runs.
	dup := send(`{"name":"b","userId":"u_2","contactProperties":{"seen":true}}`, "Idempotency-Key", "head-1")
	if dup["stored"] != false || dup["contactKey"] != "u_2" || len(dup["exits"].([]any)) != 0 {
		t.Fatalf("duplicate: %v", dup)
	}
	if c, found := f.Contact("u_2"); !found || c.Properties["seen"] != true {
		t.Fatalf("a duplicate still resolves and applies contactProperties: %+v", c)
	}
	// The body's key counts without a header; an empty header means none.
	send(`{"name":"c","userId":"u_1","idempotencyKey":"body-2"}`)
	if send(`{"name":"c","userId":"u_1","idempotencyKey":"body-2"}`)["stored"] != false {
		t.Fatal("the body's key dedups")
	}
	send(`{"name":"d","userId":"u_1","idempotencyKey":"body-2"}`, "Idempotency-Key", "")
	if n := len(f.Events()); n != 3 {
		t.Fatalf("%d events stored, want 3 (an empty header overrides the body's key)", n)
	}
	f.tick(1e15) // forever: no window
	if send(`{"name":"a","userId":"u_1"}`, "Idempotency-Key", "head-1")["stored"] != false {
		t.Fatal("keys are permanent")
	}
}

// TestListsOnEvent: a list write needs an email; its failure is listsError.
func TestListsOnEvent(t *testing.T) {
	f := start(t, Options{})
	r := f.send("POST", "/v1/events", f.ingest, `{"name":"n","userId":"u","lists":{"newsletter":true}}`)
	if r.status != 202 || !strings.Contains(r.body, `"listsError":"`+msgNoEmailForLists+`"`) || !strings.Contains(r.body, `"stored":true`) {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

// TestIngestSuspended answers 429 before anything else.
func TestIngestSuspended(t *testing.T) {
	f := start(t, Options{IngestSuspended: true})
	r := f.send("POST", "/v1/events", f.ingest, `{"name":"n","userId":"u"}`)
	if r.status != 429 || !strings.Contains(r.body, `"error":"ingest_suspended"`) || len(f.Events()) != 0 {
		t.Fatalf("%d %s", r.status, r.body)
	}
}
