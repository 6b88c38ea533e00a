package clickhouse

import (
	"reflect"
	"testing"

	"github.com/google/uuid"
)

// testEngineDeadLetters writes the hand-off's dead letters to b (migrated,
// empty) and reads back those not replayed: every field, a body with tabs,
// newlines and quotes, and a replay's newer version hiding its letter.
func testEngineDeadLetters(t *testing.T, b Backend) {
	ctx := testContext(t)
	at := base - base%1000 // whole seconds: servers without DateTime64 keep no more
	first := EngineDeadLetter{
		Call: uuid.MustParse("0190e0a0-0000-7000-8000-0000000000d1"), Kind: 2,
		ContactID: uuid.MustParse("0190e0a0-0000-7000-8000-0000000000a1"), Method: "POST", Path: "/v1/events",
		IdempotencyKey: "key\t1", Body: []byte("{\"name\":\"a\\tb\",\n\"x\":\"\\\"q\\\"\"}"), Status: 422,
		Answer: []byte(`{"error":"nope"}`), FailedAt: at, Version: 1,
	}
	second := EngineDeadLetter{Call: uuid.MustParse("0190e0a0-0000-7000-8000-0000000000d2"), Kind: 3, Method: "DELETE",
		Path: "/v1/contacts", Body: []byte(`{"email":"a@b.co"}`), Status: 400, Answer: []byte(`{}`), FailedAt: at + 1000, Version: 1}
	if err := b.InsertEngineDeadLetters(ctx, []EngineDeadLetter{second, first}); err != nil {
		t.Fatal(err)
	}
	got, err := b.LoadEngineDeadLetters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []EngineDeadLetter{first, second}) {
		t.Fatalf("dead letters\n%+v\nwant, oldest first,\n%+v", got, []EngineDeadLetter{first, second})
	}
	replayed := first
	replayed.ReplayedAt, replayed.Version = base+5000, 2
	if err := b.InsertEngineDeadLetters(ctx, []EngineDeadLetter{replayed}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.LoadEngineDeadLetters(ctx); err != nil || len(got) != 1 || got[0].Call != second.Call {
		t.Fatalf("after a replay: %+v, %v", got, err)
	}
}

func TestServerEngineDeadLetters(t *testing.T) {
	s, _ := newTestServer(t)
	testEngineDeadLetters(t, s)
}

func TestEmbeddedEngineDeadLetters(t *testing.T) {
	requireChdb(t)
	e := openEmbedded(t, t.TempDir())
	if err := e.Migrate(testContext(t)); err != nil {
		t.Fatal(err)
	}
	testEngineDeadLetters(t, e)
}

// testPostHogDeadLetters writes the mirror's dead letters to b and reads
// back those not replayed.
func testPostHogDeadLetters(t *testing.T, b Backend) {
	ctx := testContext(t)
	at := base - base%1000
	first := PostHogDeadLetter{UUID: "0190e0a0-0000-7000-8000-0000000000e1", Token: "phc_a", Historical: true,
		Event: []byte("{\"event\":\"a\\tb\",\n\"x\":1}"), Status: 400, Answer: []byte(`{"type":"validation_error"}`), FailedAt: at, Version: 1}
	second := PostHogDeadLetter{UUID: "0190e0a0-0000-7000-8000-0000000000e2", Token: "phc_b", Event: []byte(`{}`),
		Status: 401, Answer: []byte(`{}`), FailedAt: at + 1000, Version: 1}
	if err := b.InsertPostHogDeadLetters(ctx, []PostHogDeadLetter{second, first}); err != nil {
		t.Fatal(err)
	}
	got, err := b.LoadPostHogDeadLetters(ctx)
	if err != nil || !reflect.DeepEqual(got, []PostHogDeadLetter{first, second}) {
		t.Fatalf("dead letters %+v, %v; want %+v", got, err, []PostHogDeadLetter{first, second})
	}
	replayed := first
	replayed.ReplayedAt, replayed.Version = at+5000, 2
	if err := b.InsertPostHogDeadLetters(ctx, []PostHogDeadLetter{replayed}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.LoadPostHogDeadLetters(ctx); err != nil || len(got) != 1 || got[0].UUID != second.UUID {
		t.Fatalf("after a replay: %+v, %v", got, err)
	}
}

func TestServerPostHogDeadLetters(t *testing.T) {
	s, _ := newTestServer(t)
	testPostHogDeadLetters(t, s)
}

func TestEmbeddedPostHogDeadLetters(t *testing.T) {
	requireChdb(t)
	e := openEmbedded(t, t.TempDir())
	if err := e.Migrate(testContext(t)); err != nil {
		t.Fatal(err)
	}
	testPostHogDeadLetters(t, e)
}
