package identity_test

import (
	"context"
	"testing"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// TestRedisListsKeysStoredBeforeTheIndex: keys written before the key set
// existed (a bare hash, as older releases wrote them) are listed too, once
// indexed by one scan, and with keys written after.
func TestRedisListsKeysStoredBeforeTheIndex(t *testing.T) {
	srv := testenv.Redis(t)
	r := newRedis(t, srv.RedisURL(), identity.WithKeyPrefix("old:"))
	ctx := context.Background()
	c := r.Client()
	for _, h := range []string{"h1", "h2"} {
		if err := c.HSet(ctx, "old:k:"+h, "hash", h, "prefix", "hsk_"+h, "name", "legacy", "scopes", "ingest", "created", 1, "expires", 0, "revoked", 0, "origins", "").Err(); err != nil {
			t.Fatal(err)
		}
	}
	// Another store's keys and this store's other keys are not API keys.
	c.HSet(ctx, "new:k:h9", "hash", "h9")
	c.Set(ctx, "old:i:k", "1", 0)
	if err := r.PutAPIKey(ctx, canonical.APIKey{Hash: "h3", Prefix: "hsk_h3", Name: "new", CreatedAt: 2}); err != nil {
		t.Fatal(err)
	}
	f := func(want int) {
		t.Helper()
		keys, err := r.APIKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != want {
			t.Fatalf("listed %d keys %+v, want %d", len(keys), keys, want)
		}
	}
	f(3)
	if err := r.PutAPIKey(ctx, canonical.APIKey{Hash: "h4", Prefix: "hsk_h4", CreatedAt: 3}); err != nil {
		t.Fatal(err)
	}
	f(4)
	if n := c.SCard(ctx, "old:keys").Val(); n != 4 {
		t.Fatalf("key set holds %d hashes, want 4", n)
	}
}
