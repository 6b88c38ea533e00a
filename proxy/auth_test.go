package proxy

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/apikeys"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// countingKeys counts the lookups that reach the real in-process store.
type countingKeys struct {
	store   *identity.Memory
	lookups atomic.Int64
}

func (c *countingKeys) APIKey(ctx context.Context, hash string) (canonical.APIKey, bool, error) {
	c.lookups.Add(1)
	return c.store.APIKey(ctx, hash)
}

var _ KeyLookup = (*countingKeys)(nil)

// authFixture is an Authenticator on a fake clock over a Memory store holding
// one ingest key.
type authFixture struct {
	a     *Authenticator
	keys  *countingKeys
	clock time.Time
	key   string
	rec   canonical.APIKey
}

func newAuthFixture(t testing.TB) *authFixture {
	t.Helper()
	f := &authFixture{keys: &countingKeys{store: identity.NewMemory()}, clock: time.Unix(1_800_000_000, 0)}
	key, rec, err := apikeys.Mint("k", []string{"ingest"}, 0, f.clock.UnixMilli(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.keys.store.PutAPIKey(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	f.key, f.rec = key, rec
	f.a = NewAuthenticator("", f.keys)
	f.a.SetClock(func() time.Time { return f.clock })
	return f
}

func (f *authFixture) auth(key, ip string) *authError {
	_, aerr := f.a.Authenticate(context.Background(), []byte("Bearer "+key), nil, ip)
	return aerr
}

func randomKey(t testing.TB) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "hsk_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// TestAuthFloodKeepsValidKeyCached: 200 k made-up keys (from as many
// addresses, so the throttle does not stop them) fill the negative cache
// only; the valid key is still answered from the cache, with no store lookup.
func TestAuthFloodKeepsValidKeyCached(t *testing.T) {
	f := newAuthFixture(t)
	if aerr := f.auth(f.key, "192.0.2.1"); aerr != nil {
		t.Fatalf("valid key: %v", aerr.msg)
	}
	const flood = 200_000
	for i := range flood {
		ip := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		if aerr := f.auth(randomKey(t), ip); aerr != errUnauthorized {
			t.Fatalf("random key %d: %+v, want 401", i, aerr)
		}
	}
	if n := f.keys.lookups.Load(); n != 1+flood {
		t.Fatalf("store lookups %d, want %d", n, 1+flood)
	}
	if f.a.unknown.len() != authNegativeKeys || f.a.found.len() != 1 {
		t.Fatalf("cache sizes: unknown %d (bound %d), found %d", f.a.unknown.len(), authNegativeKeys, f.a.found.len())
	}
	if aerr := f.auth(f.key, "192.0.2.1"); aerr != nil {
		t.Fatalf("valid key after the flood: %v", aerr.msg)
	}
	if n := f.keys.lookups.Load(); n != 1+flood {
		t.Fatalf("the valid key was looked up again: %d lookups", n)
	}
}

// TestAuthNegativeCache: an unknown key is looked up once per negative TTL.
func TestAuthNegativeCache(t *testing.T) {
	f := newAuthFixture(t)
	unknown := randomKey(t)
	for range 3 {
		if aerr := f.auth(unknown, "192.0.2.1"); aerr != errUnauthorized {
			t.Fatalf("unknown key: %+v", aerr)
		}
	}
	if n := f.keys.lookups.Load(); n != 1 {
		t.Fatalf("lookups %d within the negative TTL, want 1", n)
	}
	f.clock = f.clock.Add(authNegativeTTL)
	f.auth(unknown, "192.0.2.1")
	if n := f.keys.lookups.Load(); n != 2 {
		t.Fatalf("lookups %d after the negative TTL, want 2", n)
	}
}

// TestAuthThrottle: past authMaxFailures failures in a window a network gets
// 429 with Retry-After and no store lookup; keys already cached still work
// from it, other networks are unaffected, and the window's end lifts it.
func TestAuthThrottle(t *testing.T) {
	f := newAuthFixture(t)
	const ip = "2001:db8:1:2::10"
	if aerr := f.auth(f.key, ip); aerr != nil { // cached from now on
		t.Fatalf("valid key: %v", aerr.msg)
	}
	for i := range authMaxFailures {
		if aerr := f.auth(randomKey(t), ip); aerr != errUnauthorized {
			t.Fatalf("failure %d: %+v, want 401", i, aerr)
		}
	}
	before := f.keys.lookups.Load()
	f.clock = f.clock.Add(10 * time.Second)
	aerr := f.auth(randomKey(t), "2001:db8:1:2::99") // same /64
	if aerr == nil || aerr.status != 429 || aerr.retryAfter != 50 {
		t.Fatalf("throttled network: %+v, want 429 with Retry-After 50", aerr)
	}
	if n := f.keys.lookups.Load(); n != before {
		t.Fatalf("a throttled request reached the store (%d lookups, was %d)", n, before)
	}
	if aerr := f.auth(f.key, ip); aerr != nil {
		t.Fatalf("cached valid key from a throttled network: %+v", aerr)
	}
	other, rec, _ := apikeys.Mint("other", []string{"ingest"}, 0, 0, nil)
	if err := f.keys.store.PutAPIKey(context.Background(), rec); err != nil {
		t.Fatalf("store key: %v", err)
	}
	if aerr := f.auth(other, ip); aerr == nil || aerr.status != 429 {
		t.Fatalf("uncached key from a throttled network: %+v, want 429", aerr)
	}
	if aerr := f.auth(other, "2001:db8:1:3::1"); aerr != nil {
		t.Fatalf("another /64: %+v", aerr)
	}
	f.clock = f.clock.Add(authFailureWindow)
	if aerr := f.auth(randomKey(t), ip); aerr != errUnauthorized {
		t.Fatalf("after the window: %+v, want 401", aerr)
	}
}

// TestAuthRevocation: a revoked key works on until its cache entry expires
// (another instance's revocation), or stops at once when forgotten (this
// instance's); revoked and expired keys count as failures.
func TestAuthRevocation(t *testing.T) {
	f := newAuthFixture(t)
	if aerr := f.auth(f.key, "192.0.2.1"); aerr != nil {
		t.Fatalf("valid key: %v", aerr.msg)
	}
	revoked := f.rec
	revoked.RevokedAt = f.clock.UnixMilli()
	if err := f.keys.store.PutAPIKey(context.Background(), revoked); err != nil {
		t.Fatalf("store key: %v", err)
	}
	f.clock = f.clock.Add(authCacheTTL - time.Second)
	if aerr := f.auth(f.key, "192.0.2.1"); aerr != nil {
		t.Fatalf("cached key within the TTL: %v", aerr.msg)
	}
	f.clock = f.clock.Add(time.Second)
	if aerr := f.auth(f.key, "192.0.2.1"); aerr != errUnauthorized {
		t.Fatalf("revoked key after the TTL: %+v, want 401", aerr)
	}

	g := newAuthFixture(t)
	g.auth(g.key, "192.0.2.1")
	revoked = g.rec
	revoked.RevokedAt = g.clock.UnixMilli()
	if err := g.keys.store.PutAPIKey(context.Background(), revoked); err != nil {
		t.Fatalf("store key: %v", err)
	}
	g.a.Forget(g.rec.Hash)
	if aerr := g.auth(g.key, "192.0.2.1"); aerr != errUnauthorized {
		t.Fatalf("revoked and forgotten key: %+v, want 401", aerr)
	}
	w, _ := g.a.throttle.nets.get(throttleKey("192.0.2.1"), g.clock.UnixNano())
	if w == nil || w.n != 1 {
		t.Fatalf("revoked key not counted as a failure: %+v", w)
	}
}

// TestAuthAdminKeyAndBearer: the admin key needs no lookup; a missing or
// malformed bearer is 401 without one.
func TestAuthAdminKeyAndBearer(t *testing.T) {
	f := newAuthFixture(t)
	f.a.adminKey = []byte("admin-secret")
	p, aerr := f.a.Authenticate(context.Background(), []byte("Bearer admin-secret"), nil, "192.0.2.1")
	if aerr != nil || !p.IsAdmin() {
		t.Fatalf("admin key: %+v %+v", p, aerr)
	}
	for _, h := range []string{"", "Bearer ", "bearer " + f.key, f.key} {
		if _, aerr := f.a.Authenticate(context.Background(), []byte(h), nil, "192.0.2.1"); aerr != errUnauthorized {
			t.Fatalf("header %q: %+v", h, aerr)
		}
	}
	if n := f.keys.lookups.Load(); n != 0 {
		t.Fatalf("lookups %d, want 0", n)
	}
}
