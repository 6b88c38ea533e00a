package identitytest

import (
	"cmp"
	"slices"
	"testing"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// testAPIKeyList: APIKeys lists every stored key with its latest state,
// revoked ones included.
func testAPIKeyList(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	list := func() []canonical.APIKey {
		t.Helper()
		got, err := s.APIKeys(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(got, func(a, b canonical.APIKey) int { return cmp.Compare(a.Hash, b.Hash) })
		return got
	}
	equal(t, "empty store", len(list()), 0)
	keys := []canonical.APIKey{
		{Hash: "a1", Prefix: "hsk_aaaa", Name: "one", Scopes: []string{"ingest"}, CreatedAt: T0},
		{Hash: "b2", Prefix: "pk_bbbbb", Name: "two", Scopes: []string{"ingest-public"}, CreatedAt: T0 + 1, AllowedOrigins: []string{"https://a.example"}},
		{Hash: "c3", Prefix: "hsk_cccc", Name: "three", Scopes: []string{"read", "full-admin"}, CreatedAt: T0 + 2, ExpiresAt: T0 + 9},
	}
	for _, k := range keys {
		if err := s.PutAPIKey(ctx(t), k); err != nil {
			t.Fatal(err)
		}
	}
	equal(t, "listed", list(), keys)
	keys[1].RevokedAt = T0 + 5
	if err := s.PutAPIKey(ctx(t), keys[1]); err != nil {
		t.Fatal(err)
	}
	equal(t, "listed after revoking", list(), keys)
}

// testAPIKeyRestoreKeepsRevocation: a snapshot that holds a key's revoked
// row before its creation row (the spool replays after ClickHouse's rows)
// restores the key revoked.
func testAPIKeyRestoreKeepsRevocation(t *testing.T, newStore func(*testing.T) identity.Store) {
	created := canonical.APIKey{Hash: "h1", Prefix: "hsk_xxxx", Name: "n", Scopes: []string{"ingest"}, CreatedAt: T0}
	revoked := created
	revoked.RevokedAt = T0 + 10
	s := newStore(t)
	if err := s.Restore(ctx(t), canonical.Snapshot{APIKeys: []canonical.APIKey{revoked, created}}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.APIKey(ctx(t), "h1")
	if err != nil || !ok {
		t.Fatalf("api key: %v %v", ok, err)
	}
	equal(t, "restored key", got, revoked)
	list, err := s.APIKeys(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "restored keys listed", list, []canonical.APIKey{revoked})
}
