package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/native"
)

func newHandOffIngestor(j Journal) *Ingestor {
	return New(identity.NewMemory(), j, Options{IdempotencyWindow: time.Hour, EngineCalls: true})
}

// calls are every engine call the journal holds, in order.
func (j *flakyJournal) calls() []canonical.EngineCall {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []canonical.EngineCall
	for _, b := range j.batches {
		out = append(out, b.Calls...)
	}
	return out
}

// captureJSON sends body to in as an uncompressed /batch/ request.
func captureJSON(t *testing.T, in *Ingestor, body string) {
	t.Helper()
	if _, err := in.Capture(context.Background(), CaptureRequest{Path: "/batch", Body: []byte(body), ContentType: "application/json"}, CaptureOptions{}); err != nil {
		t.Fatal(err)
	}
}

func jsonOf(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m
}

// TestEngineCallsOfNativeWrites: each native write puts its call in the
// batch of its records: the body the engine must get, without the
// userToken, ordered by the contact it resolved.
func TestEngineCallsOfNativeWrites(t *testing.T) {
	j := &flakyJournal{}
	in := newHandOffIngestor(j)
	defer in.Close()
	ctx := context.Background()
	u, err := native.ParseContactUpsert([]byte(`{"userId":"u1","email":"A@b.co","properties":{"plan":"pro","gone":null},"lists":{"news":true},"userToken":"t"}`), true)
	if err != nil {
		t.Fatal(err)
	}
	up, err := in.UpsertContact(ctx, u, false)
	if err != nil || up.Call == uuid.Nil {
		t.Fatalf("upsert = %+v, %v", up, err)
	}
	ev, err := native.ParseEvent([]byte(`{"name":"paid","userId":"u1","contactProperties":{"tier":2},"eventProperties":{"x":1}}`), true, "k1")
	if err != nil {
		t.Fatal(err)
	}
	res, err := in.TrackEvent(ctx, ev, "api", false)
	if err != nil || !res.Stored || res.Call == uuid.Nil {
		t.Fatalf("event = %+v, %v", res, err)
	}
	dup, err := in.TrackEvent(ctx, ev, "api", false)
	if err != nil || dup.Stored || dup.Call != uuid.Nil {
		t.Fatalf("duplicate = %+v, %v; want not stored, no call to wait for", dup, err)
	}
	del, err := in.DeleteContacts(ctx, native.ContactKeys{UserID: "u1"})
	if err != nil || del == uuid.Nil {
		t.Fatalf("delete = %s, %v", del, err)
	}
	calls := j.calls()
	if len(calls) != 4 {
		t.Fatalf("calls = %d, want upsert, event, the duplicate's contact change, delete", len(calls))
	}
	want := []struct {
		kind uint8
		id   uuid.UUID
		body map[string]any
	}{
		{canonical.CallUpsert, up.Call, map[string]any{"userId": "u1", "email": "a@b.co", "properties": map[string]any{"plan": "pro", "gone": nil}, "lists": map[string]any{"news": true}}},
		{canonical.CallEvent, res.Call, map[string]any{"userId": "u1", "contactProperties": map[string]any{"tier": 2.0}}},
		{canonical.CallUpsert, uuid.Nil, map[string]any{"userId": "u1", "properties": map[string]any{"tier": 2.0}}},
		{canonical.CallDelete, del, map[string]any{"userId": "u1"}},
	}
	for i, w := range want {
		c := calls[i]
		if c.Kind != w.kind || w.id != uuid.Nil && c.ID != w.id || c.ContactID != up.ID || !c.Awaited {
			t.Errorf("call %d = kind %d id %s contact %s awaited %v; want kind %d id %s contact %s", i, c.Kind, c.ID, c.ContactID, c.Awaited, w.kind, w.id, up.ID)
		}
		if got := jsonOf(t, c.Body); !reflect.DeepEqual(got, w.body) {
			t.Errorf("call %d body %v, want %v", i, got, w.body)
		}
	}
	if b := j.batches[1]; len(b.Events) != 1 || b.Events[0].ID != calls[1].ID {
		t.Fatalf("the event call names another event than its batch's")
	}
}

// TestEngineCallsSkipped: nothing the engine's secret-key API cannot take
// (anonymous writes), and nothing without the option.
func TestEngineCallsSkipped(t *testing.T) {
	ctx := context.Background()
	j := &flakyJournal{}
	in := newHandOffIngestor(j)
	defer in.Close()
	u, _ := native.ParsePublishableContactUpsert([]byte(`{"anonymousId":"a1","properties":{"x":1}}`), true)
	if res, err := in.UpsertContact(ctx, u, true); err != nil || res.Call != uuid.Nil {
		t.Fatalf("anonymous upsert = %+v, %v", res, err)
	}
	ev, _ := native.ParsePublishableEvent([]byte(`{"name":"seen","anonymousId":"a1"}`), true, "")
	if res, err := in.TrackEvent(ctx, ev, "inapp", true); err != nil || res.Call != uuid.Nil {
		t.Fatalf("anonymous event = %+v, %v", res, err)
	}
	if n := len(j.calls()); n != 0 {
		t.Fatalf("calls = %d, want none", n)
	}

	plain := &flakyJournal{}
	off := newTestIngestor(plain)
	defer off.Close()
	ev, _ = native.ParseEvent([]byte(`{"name":"paid","userId":"u1"}`), true, "")
	if res, err := off.TrackEvent(ctx, ev, "api", false); err != nil || res.Call != uuid.Nil || len(plain.calls()) != 0 {
		t.Fatalf("without EngineCalls: %+v, %v, %d calls", res, err, len(plain.calls()))
	}
}

// TestDeleteCallWhenNotFoundHere: the engine may hold a contact the proxy
// never saw, so the delete goes to it anyway, and the local answer is
// still "not found".
func TestDeleteCallWhenNotFoundHere(t *testing.T) {
	j := &flakyJournal{}
	in := newHandOffIngestor(j)
	defer in.Close()
	call, err := in.DeleteContacts(context.Background(), native.ContactKeys{Email: "only@engine.example"})
	if !errors.Is(err, ErrContactNotFound) || call == uuid.Nil {
		t.Fatalf("delete = %s, %v; want a call and not found", call, err)
	}
	calls := j.calls()
	if len(calls) != 1 || calls[0].Kind != canonical.CallDelete || calls[0].ContactID != uuid.Nil ||
		!reflect.DeepEqual(jsonOf(t, calls[0].Body), map[string]any{"email": "only@engine.example"}) {
		t.Fatalf("calls = %+v", calls)
	}
}

// TestEngineCallsOfCapture: a PostHog event of a person with a userId or
// email gets a call with them; an anonymous person's and an import's do not.
func TestEngineCallsOfCapture(t *testing.T) {
	j := &flakyJournal{}
	in := newHandOffIngestor(j)
	defer in.Close()
	body := `{"api_key":"phc_t","batch":[
{"event":"$identify","distinct_id":"u9","uuid":"018f0000-0000-7000-8000-000000000101","properties":{"$anon_distinct_id":"anon-9","$set":{"email":"u9@b.co"}}},
{"event":"$pageview","distinct_id":"u9","uuid":"018f0000-0000-7000-8000-000000000102","properties":{}},
{"event":"$pageview","distinct_id":"anon-7","uuid":"018f0000-0000-7000-8000-000000000103","properties":{}}]}`
	captureJSON(t, in, body)
	calls := j.calls()
	if len(calls) != 2 {
		t.Fatalf("calls = %+v, want the two events of u9", calls)
	}
	for i, id := range []string{"018f0000-0000-7000-8000-000000000101", "018f0000-0000-7000-8000-000000000102"} {
		c := calls[i]
		if c.Kind != canonical.CallEvent || c.ID.String() != id || c.Awaited || c.ContactID == uuid.Nil ||
			jsonOf(t, c.Body)["userId"] != "u9" {
			t.Errorf("call %d = %+v body %s", i, c, c.Body)
		}
	}
	hist := `{"api_key":"phc_t","historical_migration":true,"batch":[{"event":"old","distinct_id":"u9","uuid":"018f0000-0000-7000-8000-000000000104"}]}`
	captureJSON(t, in, hist)
	if n := len(j.calls()); n != 2 {
		t.Fatalf("an import added calls: %d", n)
	}
}

// TestCaptureCallsOfInterleavedPeople: a request's calls share a person's
// identity body, and each call still names its own person when people
// alternate.
func TestCaptureCallsOfInterleavedPeople(t *testing.T) {
	j := &flakyJournal{}
	in := newHandOffIngestor(j)
	defer in.Close()
	body := `{"api_key":"phc_t","batch":[
{"event":"$identify","distinct_id":"u1","uuid":"018f0000-0000-7000-8000-000000000201","properties":{"$anon_distinct_id":"anon-1","$set":{"email":"u1@b.co"}}},
{"event":"$identify","distinct_id":"u2","uuid":"018f0000-0000-7000-8000-000000000202","properties":{"$anon_distinct_id":"anon-2","$set":{"email":"u2@b.co"}}},
{"event":"$pageview","distinct_id":"u1","uuid":"018f0000-0000-7000-8000-000000000203","properties":{}},
{"event":"$pageview","distinct_id":"u2","uuid":"018f0000-0000-7000-8000-000000000204","properties":{}},
{"event":"$pageview","distinct_id":"u1","uuid":"018f0000-0000-7000-8000-000000000205","properties":{}}]}`
	captureJSON(t, in, body)
	calls := j.calls()
	want := []string{"u1", "u2", "u1", "u2", "u1"}
	if len(calls) != len(want) {
		t.Fatalf("%d calls, want %d: %+v", len(calls), len(want), calls)
	}
	contactOf := map[string]uuid.UUID{}
	for i, user := range want {
		b := jsonOf(t, calls[i].Body)
		if b["userId"] != user || b["email"] != user+"@b.co" {
			t.Errorf("call %d body %s, want userId %s", i, calls[i].Body, user)
		}
		if id, seen := contactOf[user]; seen && id != calls[i].ContactID {
			t.Errorf("call %d contact %s, want %s", i, calls[i].ContactID, id)
		}
		contactOf[user] = calls[i].ContactID
	}
	if contactOf["u1"] == contactOf["u2"] {
		t.Errorf("both people on contact %s", contactOf["u1"])
	}
}
