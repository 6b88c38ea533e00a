package identity_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/identity/identitytest"
)

// TestRedisConformance shares one redis-server across the suite; every store
// gets its own key prefix, so each starts empty.
func TestRedisConformance(t *testing.T) {
	url := testenv.Redis(t).RedisURL()
	t.Run("Cached", func(t *testing.T) { runConformance(t, url, "c", identity.WithContactCache(1<<20)) })
	t.Run("Uncached", func(t *testing.T) { runConformance(t, url, "t") })
}

// runConformance runs the suite on the Redis at url, each store under a key
// prefix of its own: base and a number.
func runConformance(t *testing.T, url, base string, opts ...identity.RedisOption) {
	t.Helper()
	var n atomic.Int64
	identitytest.Run(t, func(t *testing.T) identity.Store {
		return newRedis(t, url, append(opts, identity.WithKeyPrefix(fmt.Sprintf("%s%d:", base, n.Add(1))))...)
	})
}

func newRedis(t testing.TB, url string, opts ...identity.RedisOption) *identity.Redis {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := identity.NewRedis(ctx, url, opts...)
	if err != nil {
		t.Fatalf("new redis store: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func emailOp(email string) identity.ResolveOp {
	return identity.ResolveOp{
		Keys:  []identity.Key{{Kind: canonical.KindEmail, Value: email}},
		NewID: uuid.Must(uuid.NewV7()),
	}
}

func resolveOne(ctx context.Context, s identity.Store, op identity.ResolveOp) (identity.ResolveResult, error) {
	res := make([]identity.ResolveResult, 1)
	if err := s.Resolve(ctx, []identity.ResolveOp{op}, res); err != nil {
		return res[0], err
	}
	return res[0], res[0].Err
}

// TestRedisUnavailable: a dead Redis gives ErrUnavailable promptly, and the
// store works again once Redis is back, reloading its scripts.
func TestRedisUnavailable(t *testing.T) {
	srv := testenv.Redis(t)
	s := newRedis(t, srv.RedisURL())
	bg := context.Background()
	// go-redis logs every failed dial; the failures are the point here.
	redis.SetLogger(quietLogger{})
	if _, err := resolveOne(bg, s, emailOp("k@x")); err != nil {
		t.Fatal(err)
	}

	srv.Kill()
	ctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := resolveOne(ctx, s, emailOp("k@x"))
	if !errors.Is(err, identity.ErrUnavailable) {
		t.Fatalf("resolve with redis down: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("failure took %s", d)
	} else {
		t.Logf("failure took %s: %v", d, err)
	}
	for name, err := range map[string]error{
		"ping": s.Ping(ctx),
		"find": func() error { _, err := s.Find(ctx, "k@x", ""); return err }(),
		"delete": func() error {
			_, _, err := s.Delete(ctx, "k@x", "", 0)
			return err
		}(),
		"release": s.ReleaseIdempotency(ctx, []string{"x"}),
		"api key": func() error { _, _, err := s.APIKey(ctx, "x"); return err }(),
	} {
		if !errors.Is(err, identity.ErrUnavailable) {
			t.Errorf("%s with redis down: %v, want ErrUnavailable", name, err)
		}
	}

	srv.Restart(15 * time.Second)
	// A fresh server has an empty script cache: NOSCRIPT must be handled.
	var r identity.ResolveResult
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err = resolveOne(bg, s, emailOp("back@x"))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // AOF loading answers LOADING briefly
	}
	if err != nil {
		t.Fatalf("resolve after restart: %v", err)
	}
	// AOF fsyncs every second, so what was written just before the kill may be
	// gone; only the store's recovery is asserted.
	if !r.Found || r.Contact.Email != "back@x" {
		t.Errorf("after restart: %+v", r)
	}
	if _, err := s.Find(bg, "back@x", ""); err != nil {
		t.Errorf("find after restart: %v", err)
	}
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// TestRedisScriptFlush: ops survive a SCRIPT FLUSH between calls.
func TestRedisScriptFlush(t *testing.T) {
	srv := testenv.Redis(t)
	s := newRedis(t, srv.RedisURL())
	ctx := context.Background()
	if err := s.Client().ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	ops := []identity.ResolveOp{emailOp("f@x"), emailOp("f@x"), emailOp("g@x")}
	res := make([]identity.ResolveResult, len(ops))
	if err := s.Resolve(ctx, ops, res); err != nil {
		t.Fatal(err)
	}
	if !res[0].Created || !res[1].Linked || res[1].Contact.ID != res[0].Contact.ID || !res[2].Created {
		t.Errorf("after flush: %+v", res)
	}
	if err := s.Client().ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if cs, err := s.Find(ctx, "f@x", ""); err != nil || len(cs) != 1 {
		t.Errorf("find after flush: %v %v", cs, err)
	}
	// A batch mixing resolves and claim-only ops, after a flush: both scripts
	// are re-sent, and every op's answer lands on the right op.
	if err := s.Client().ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	claim := func(k string) identity.ResolveOp {
		return identity.ResolveOp{ClaimOnly: true, IdempotencyKey: k, IdempotencyWindow: time.Hour}
	}
	ops = []identity.ResolveOp{claim("c1"), emailOp("h@x"), claim("c2"), claim("c1")}
	res = make([]identity.ResolveResult, len(ops))
	if err := s.Resolve(ctx, ops, res); err != nil {
		t.Fatal(err)
	}
	if res[0].ClaimPending || res[0].Duplicate || !res[1].Created || res[2].ClaimPending || !res[3].ClaimPending {
		t.Errorf("mixed batch after flush: %+v", res)
	}
}
