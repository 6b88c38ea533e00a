package identity_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// TestRedisListsAPIKeys: keys are listed from the set beside them, and
// another store's keys are not.
func TestRedisListsAPIKeys(t *testing.T) {
	srv := testenv.Redis(t)
	r := newRedis(t, srv.RedisURL(), identity.WithKeyPrefix("a:"))
	other := newRedis(t, srv.RedisURL(), identity.WithKeyPrefix("b:"))
	ctx := context.Background()
	for i, h := range []string{"h1", "h2"} {
		if err := r.PutAPIKey(ctx, canonical.APIKey{Hash: h, Prefix: "hsk_" + h, CreatedAt: int64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.PutAPIKey(ctx, canonical.APIKey{Hash: "h9", Prefix: "hsk_h9", CreatedAt: 3}); err != nil {
		t.Fatal(err)
	}
	keys, err := r.APIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("listed %d keys %+v, want 2", len(keys), keys)
	}
	if n := r.Client().SCard(ctx, "a:{g}:keys").Val(); n != 2 {
		t.Fatalf("key set holds %d hashes, want 2", n)
	}
}

// TestRedisRefusesTheOldLayout: a Redis whose graph is under the key names
// before hash tags is refused with the upgrade to run, except by
// rebuild-identity's option; once the tagged graph exists it is accepted.
func TestRedisRefusesTheOldLayout(t *testing.T) {
	srv := testenv.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	plain := newRedis(t, srv.RedisURL(), identity.WithKeyPrefix("other:"))
	if err := plain.Client().Set(ctx, "old:seq", "41", 0).Err(); err != nil {
		t.Fatal(err)
	}
	_, err := identity.NewRedis(ctx, srv.RedisURL(), identity.WithKeyPrefix("old:"))
	if err == nil || !strings.Contains(err.Error(), "rebuild-identity") {
		t.Fatalf("old layout: %v, want the rebuild-identity advice", err)
	}
	r := newRedis(t, srv.RedisURL(), identity.WithKeyPrefix("old:"), identity.WithOldLayout())
	if err := r.Restore(ctx, canonical.Snapshot{Contacts: []canonical.Contact{{ID: [16]byte{1}, Email: "a@x", Version: 42}}}); err != nil {
		t.Fatal(err)
	}
	newRedis(t, srv.RedisURL(), identity.WithKeyPrefix("old:"))
}
