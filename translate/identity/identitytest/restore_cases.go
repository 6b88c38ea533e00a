package identitytest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// recorder keeps the latest row per contact and per alias, as ClickHouse's
// ReplacingMergeTree would, from what the store returned.
type recorder struct {
	contacts map[uuid.UUID]canonical.Contact
	aliases  map[identity.Key]canonical.Alias
}

func newRecorder() *recorder {
	return &recorder{contacts: map[uuid.UUID]canonical.Contact{}, aliases: map[identity.Key]canonical.Alias{}}
}

func (r *recorder) contact(c canonical.Contact) {
	if c.Version >= r.contacts[c.ID].Version {
		r.contacts[c.ID] = c
	}
}

func (r *recorder) alias(a canonical.Alias) {
	k := identity.Key{Kind: a.Kind, Value: a.Value}
	if a.Version >= r.aliases[k].Version {
		r.aliases[k] = a
	}
}

func (r *recorder) result(res identity.ResolveResult) identity.ResolveResult {
	if res.Found {
		r.contact(res.Contact)
	}
	for _, l := range res.Losers {
		r.contact(l)
	}
	for _, a := range res.Aliases {
		r.alias(a)
	}
	return res
}

func (r *recorder) snapshot() canonical.Snapshot {
	var s canonical.Snapshot
	for _, c := range r.contacts {
		s.Contacts = append(s.Contacts, c)
	}
	for _, a := range r.aliases {
		s.Aliases = append(s.Aliases, a)
	}
	return s
}

func maxVersion(s canonical.Snapshot) uint64 {
	var v uint64
	for _, c := range s.Contacts {
		v = max(v, c.Version)
	}
	for _, a := range s.Aliases {
		v = max(v, a.Version)
	}
	return v
}

func testRestore(t *testing.T, newStore func(*testing.T) identity.Store) {
	src := newStore(t)
	rec := newRecorder()
	rs := func(o identity.ResolveOp) identity.ResolveResult { return rec.result(resolve1(t, src, o)) }
	a := rs(withSet(op(T0, ext("u1"), mail("a@x")), set("plan", `"pro"`), set("discord", `{"id":"9"}`))).Contact
	b := rs(withSet(op(T0+1, mail("b@x")), set("x", "1"))).Contact // known only by its uuid
	m := rs(op(T0+2, ext("u1"), mail("b@x"))).Contact              // b merges into a
	c := rs(op(T0+3, mail("c@x"))).Contact
	cs, tombs, err := src.Delete(ctx(t), "c@x", "", T0+4)
	if err != nil || len(cs) != 1 {
		t.Fatalf("delete: %v %v", cs, err)
	}
	rec.contact(cs[0])
	for _, tb := range tombs {
		rec.alias(tb)
	}
	snap := rec.snapshot()
	key := canonical.APIKey{Hash: "h1", Prefix: "sk_", Name: "n", Scopes: []string{"ingest"}, CreatedAt: T0}
	snap.APIKeys = []canonical.APIKey{key}
	snap.Idempotency = []canonical.IdempotencyClaim{
		{Key: "held", ExpiresAt: time.Now().Add(time.Hour).UnixMilli()},
		{Key: "expired", ExpiresAt: time.Now().Add(-time.Hour).UnixMilli()},
	}
	top := maxVersion(snap)

	dst := newStore(t)
	if err := dst.Restore(ctx(t), snap); err != nil {
		t.Fatalf("restore: %v", err)
	}
	got := find(t, dst, "a@x", "")
	if len(got) != 1 {
		t.Fatalf("find a@x after restore: %v", ids(got))
	}
	equal(t, "restored survivor", got[0], m)
	equal(t, "merged key", ids(find(t, dst, "b@x", "")), []uuid.UUID{a.ID})
	equal(t, "deleted stays deleted", len(find(t, dst, "c@x", "")), 0)

	r := resolve1(t, dst, op(T0+10, mail("b@x"), anon("n")))
	equal(t, "resolve restored", flags(r), "found,linked")
	equal(t, "resolve restored id", r.Contact.ID, a.ID)
	if r.Contact.Version <= top {
		t.Errorf("version after restore %d not above restored %d", r.Contact.Version, top)
	}
	equal(t, "properties restored", string(r.Contact.Properties), `{"discord":{"id":"9"},"plan":"pro","x":1}`)
	equal(t, "loser uuid", resolve1(t, dst, op(T0+11, ext(b.ID.String()))).Contact.ID, a.ID)
	r = resolve1(t, dst, op(T0+12, mail("c@x")))
	equal(t, "deleted key creates", flags(r), "found,created")
	if r.Contact.ID == c.ID {
		t.Errorf("deleted contact resurrected")
	}
	gotKey, ok, err := dst.APIKey(ctx(t), "h1")
	if err != nil || !ok {
		t.Fatalf("api key: %v %v", ok, err)
	}
	equal(t, "api key", gotKey, key)
	equal(t, "held claim", resolve1(t, dst, withIdem(op(T0+13, mail("a@x")), "held", 0)).Duplicate, true)
	equal(t, "expired claim", resolve1(t, dst, withIdem(op(T0+13, mail("a@x")), "expired", 0)).Duplicate, false)
}

// testRestoreVersionChecks: older rows lose to stored ones; a contact with no
// alias rows is still found by its identity columns.
func testRestoreVersionChecks(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	live := canonical.Contact{
		ID: uuid.Must(uuid.NewV7()), Email: "z@x", ExternalID: "uz", Properties: []byte(`{"v":2}`),
		FirstSeenAt: T0, LastSeenAt: T0, CreatedAt: T0, UpdatedAt: T0, Version: 20,
	}
	if err := s.Restore(ctx(t), canonical.Snapshot{Contacts: []canonical.Contact{live}}); err != nil {
		t.Fatal(err)
	}
	older := live
	older.Email, older.Properties, older.Version = "old@x", []byte(`{"v":1}`), 10
	staleAlias := canonical.Alias{Kind: "email", Value: "z@x", ContactID: live.ID, Deleted: true, Version: 5}
	if err := s.Restore(ctx(t), canonical.Snapshot{Contacts: []canonical.Contact{older}, Aliases: []canonical.Alias{staleAlias}}); err != nil {
		t.Fatal(err)
	}
	got := find(t, s, "z@x", "uz")
	if len(got) != 1 {
		t.Fatalf("find: %v", ids(got))
	}
	equal(t, "newer row kept", got[0], live)
	r := resolve1(t, s, op(T0+1, mail("z@x")))
	equal(t, "resolve", r.Contact.ID, live.ID)
	if r.Contact.Version <= 20 {
		t.Errorf("version %d not above restored 20", r.Contact.Version)
	}
	// A newer tombstone wins over the index entry.
	tomb := canonical.Alias{Kind: "external", Value: "uz", ContactID: live.ID, Deleted: true, Version: r.Contact.Version + 100}
	if err := s.Restore(ctx(t), canonical.Snapshot{Aliases: []canonical.Alias{tomb}}); err != nil {
		t.Fatal(err)
	}
	equal(t, "after tombstone", len(find(t, s, "", "uz")), 0)
	equal(t, "email still", ids(find(t, s, "z@x", "")), []uuid.UUID{live.ID})
	if v := resolve1(t, s, op(T0+2, mail("z@x"))).Contact.Version; v <= tomb.Version {
		t.Errorf("version %d not above restored alias version %d", v, tomb.Version)
	}
}
