package clickhouse

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// writeSnapshotFixture inserts identity state with superseded versions and
// returns the snapshot LoadSnapshot must produce (at full precision).
func writeSnapshotFixture(t *testing.T, b Backend) canonical.Snapshot {
	t.Helper()
	ctx := testContext(t)
	c1 := canonical.Contact{ID: uuid.MustParse("aaaaaaaa-0000-4000-8000-000000000001"), ExternalID: "u1", Email: "one@x.io",
		AnonymousID: "anon-1", Properties: []byte(`{"a":"tab\there"}`), Source: "api",
		FirstSeenAt: base, LastSeenAt: base + 10, CreatedAt: base, UpdatedAt: base + 10, Version: 1}
	c1v2 := c1
	c1v2.Email, c1v2.UpdatedAt, c1v2.Version = "one@y.io", base+20_020, 2
	c2 := canonical.Contact{ID: uuid.MustParse("aaaaaaaa-0000-4000-8000-000000000002"), Properties: []byte(`{}`), Source: "posthog",
		FirstSeenAt: base, LastSeenAt: base, CreatedAt: base, UpdatedAt: base + 999, DeletedAt: base + 999, Version: 7}
	if err := b.InsertContacts(ctx, []canonical.Contact{c1v2, c2}); err != nil {
		t.Fatal(err)
	}
	if err := b.InsertContacts(ctx, []canonical.Contact{c1}); err != nil {
		t.Fatal(err)
	}
	a1 := canonical.Alias{Kind: canonical.KindExternal, Value: "u1", ContactID: c1.ID, Reason: canonical.ReasonResolve, Version: 3, At: base + 1}
	a2 := canonical.Alias{Kind: canonical.KindEmail, Value: "one@x.io", ContactID: c1.ID, Reason: canonical.ReasonResolve, Version: 1, At: base}
	a2gone := a2
	a2gone.Deleted, a2gone.Version, a2gone.At = true, 2, base+20_020
	a3 := canonical.Alias{Kind: canonical.KindAnonymous, Value: "anon-9", ContactID: c1.ID, FromContactID: c2.ID, Reason: canonical.ReasonMerge, Version: 4, At: base + 5}
	if err := b.InsertAliases(ctx, []canonical.Alias{a2gone, a1, a3}); err != nil {
		t.Fatal(err)
	}
	if err := b.InsertAliases(ctx, []canonical.Alias{a2}); err != nil {
		t.Fatal(err)
	}
	k1 := canonical.APIKey{Hash: "h1", Prefix: "sk_aaaaa", Name: "server", Scopes: []string{"ingest", "full-admin"}, CreatedAt: base, ExpiresAt: base + 1_000_000}
	k2 := canonical.APIKey{Hash: "h2", Prefix: "pk_bbbbb", Name: "web", Scopes: []string{}, CreatedAt: base, RevokedAt: base + 5}
	if err := b.InsertAPIKeys(ctx, []canonical.APIKey{k1, k2}); err != nil {
		t.Fatal(err)
	}
	e := testEvent(3)
	if err := b.InsertEvents(ctx, []canonical.Event{e}); err != nil {
		t.Fatal(err)
	}
	return canonical.Snapshot{
		Contacts:    []canonical.Contact{c1v2, c2},
		Aliases:     []canonical.Alias{a1, a2gone, a3},
		APIKeys:     []canonical.APIKey{k1, k2},
		Idempotency: []canonical.IdempotencyClaim{{Key: e.IdempotencyKey, ExpiresAt: e.ReceivedAt + 7*86_400_000}},
	}
}

// checkSnapshot compares got with want, truncating want's times to the
// store's precision and ignoring row order.
func checkSnapshot(t *testing.T, got, want canonical.Snapshot, precision int64) {
	t.Helper()
	tr := func(v *int64) { *v = truncateTo(*v, precision) }
	for i := range want.Contacts {
		c := &want.Contacts[i]
		tr(&c.FirstSeenAt)
		tr(&c.LastSeenAt)
		tr(&c.CreatedAt)
		tr(&c.UpdatedAt)
		tr(&c.DeletedAt)
	}
	for i := range want.Aliases {
		tr(&want.Aliases[i].At)
	}
	for i := range want.APIKeys {
		tr(&want.APIKeys[i].CreatedAt)
		tr(&want.APIKeys[i].ExpiresAt)
		tr(&want.APIKeys[i].RevokedAt)
	}
	for i := range want.Idempotency {
		c := &want.Idempotency[i]
		c.ExpiresAt = truncateTo(c.ExpiresAt-7*86_400_000, precision) + 7*86_400_000
	}
	slices.SortFunc(got.Contacts, func(a, b canonical.Contact) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	slices.SortFunc(got.Aliases, func(a, b canonical.Alias) int { return strings.Compare(a.Kind+a.Value, b.Kind+b.Value) })
	slices.SortFunc(want.Aliases, func(a, b canonical.Alias) int { return strings.Compare(a.Kind+a.Value, b.Kind+b.Value) })
	slices.SortFunc(got.APIKeys, func(a, b canonical.APIKey) int { return strings.Compare(a.Hash, b.Hash) })
	if !reflect.DeepEqual(got.Contacts, want.Contacts) {
		t.Errorf("contacts\n got %+v\nwant %+v", got.Contacts, want.Contacts)
	}
	if !reflect.DeepEqual(got.Aliases, want.Aliases) {
		t.Errorf("aliases\n got %+v\nwant %+v", got.Aliases, want.Aliases)
	}
	if !reflect.DeepEqual(got.APIKeys, want.APIKeys) {
		t.Errorf("api keys\n got %+v\nwant %+v", got.APIKeys, want.APIKeys)
	}
	if !reflect.DeepEqual(got.Idempotency, want.Idempotency) {
		t.Errorf("idempotency\n got %+v\nwant %+v", got.Idempotency, want.Idempotency)
	}
}
