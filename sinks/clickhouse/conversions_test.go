package clickhouse

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// testConversionTables writes and reads back the conversion tables of b,
// which must be migrated and empty.
func testConversionTables(t *testing.T, b Backend) {
	ctx := testContext(t)
	survivor := uuid.MustParse("0190e0a0-0000-7000-8000-000000000001")
	loser := uuid.MustParse("0190e0a0-0000-7000-8000-000000000002")
	other := uuid.MustParse("0190e0a0-0000-7000-8000-000000000003")
	if err := b.InsertContacts(ctx, []canonical.Contact{
		{ID: survivor, Email: "a@example.com", ExternalID: "u1", Properties: []byte(`{"phone":"+15551230000"}`), Version: 1, CreatedAt: base, UpdatedAt: base},
		{ID: survivor, Email: "b@example.com", ExternalID: "u1", Properties: []byte(`{"phone":"+15551239999"}`), Version: 2, CreatedAt: base, UpdatedAt: base},
	}); err != nil {
		t.Fatal(err)
	}
	if err := b.InsertAliases(ctx, []canonical.Alias{
		{Kind: canonical.KindAnonymous, Value: "anon-1", ContactID: survivor, FromContactID: loser, Reason: canonical.ReasonMerge, Version: 1, At: base},
		{Kind: canonical.KindEmail, Value: "b@example.com", ContactID: survivor, Reason: canonical.ReasonResolve, Version: 1, At: base},
	}); err != nil {
		t.Fatal(err)
	}
	all, err := b.LoadContactFacts(ctx, []uuid.UUID{survivor, other})
	if err != nil {
		t.Fatal(err)
	}
	facts := all[survivor]
	if !facts.Found || facts.Email != "b@example.com" || string(facts.Properties) != `{"phone":"+15551239999"}` || !slices.Equal(facts.Merged, []uuid.UUID{loser}) {
		t.Fatalf("facts = %+v", facts)
	}
	if f := all[other]; f == nil || f.Found {
		t.Fatalf("unknown contact: %+v", f)
	}

	ev := uuid.MustParse("0190e0a0-0000-7000-8000-0000000000e1")
	clicks := []Click{
		{ContactID: loser, Kind: "gclid", Value: "old", At: base - 10_000, EventID: ev},
		{ContactID: survivor, Kind: "fbclid", Value: "AbC", At: base, EventID: ev},
		{ContactID: survivor, Kind: "fbclid", Value: "AbC", At: base, EventID: ev}, // re-inserted
		{ContactID: other, Kind: "ttclid", Value: "x", At: base, EventID: ev},
	}
	if err := b.InsertClicks(ctx, clicks); err != nil {
		t.Fatal(err)
	}
	got, err := b.LoadRecentClicks(ctx, []uuid.UUID{survivor, loser}, base-60_000, base+1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Kind != "fbclid" || got[0].Value != "AbC" || got[1].Value != "old" || got[0].EventID != ev {
		t.Fatalf("clicks = %+v", got)
	}
	if got, err := b.LoadRecentClicks(ctx, []uuid.UUID{survivor, loser}, base-5_000, base+1); err != nil || len(got) != 1 {
		t.Fatalf("clicks in a 5 s window = %+v, %v", got, err)
	}

	if err := b.InsertDispatches(ctx, []Dispatch{
		{At: base, Destination: "meta", DedupID: "d1", RuleID: "r", EventID: ev, ContactID: survivor, EventName: "Purchase", Status: "pending"},
		{At: base + 1000, Destination: "meta", DedupID: "d1", RuleID: "r", EventID: ev, ContactID: survivor, EventName: "Purchase", Status: "delivered", Attempts: 2, HTTPStatus: 200, LatencyMs: 12},
	}); err != nil {
		t.Fatal(err)
	}
	if row := queryRow(t, b, "SELECT argMax(status, at), max(attempts), count() FROM conversion_dispatches WHERE dedup_id = 'd1'"); !slices.Equal(row, []string{"delivered", "2", "2"}) {
		t.Fatalf("dispatches = %q", row)
	}

	if err := b.InsertConversionDeadLetters(ctx, []ConversionDeadLetter{
		{Destination: "meta", DedupID: "d2", Conversion: []byte(`{"dedup_id":"d2"}`), Reason: "bad\tfield", FailedAt: base, Version: 1},
		{Destination: "reddit", DedupID: "d3", Conversion: []byte(`{"dedup_id":"d3"}`), Reason: "stale", FailedAt: base, Version: 1},
	}); err != nil {
		t.Fatal(err)
	}
	dead, err := b.LoadConversionDeadLetters(ctx, "meta")
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].DedupID != "d2" || dead[0].Reason != "bad\tfield" || string(dead[0].Conversion) != `{"dedup_id":"d2"}` {
		t.Fatalf("dead letters = %+v", dead)
	}
	replayed := dead[0]
	replayed.ReplayedAt, replayed.Version = base+5000, 2
	if err := b.InsertConversionDeadLetters(ctx, []ConversionDeadLetter{replayed}); err != nil {
		t.Fatal(err)
	}
	if dead, err := b.LoadConversionDeadLetters(ctx, ""); err != nil || len(dead) != 1 || dead[0].DedupID != "d3" {
		t.Fatalf("after replay: %+v, %v", dead, err)
	}
}

func TestServerConversionTables(t *testing.T) {
	s, _ := newTestServer(t)
	testConversionTables(t, s)
}

func TestEmbeddedConversionTables(t *testing.T) {
	requireChdb(t)
	e := openEmbedded(t, t.TempDir())
	if err := e.Migrate(testContext(t)); err != nil {
		t.Fatal(err)
	}
	testConversionTables(t, e)
}
