package identity_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// TestRedisClusterConformance runs the suite on a Redis Cluster of three
// masters: every script's keys must be in one slot, or the cluster refuses
// the call (CROSSSLOT, or a key of another node).
func TestRedisClusterConformance(t *testing.T) {
	runConformance(t, testenv.RedisCluster(t).URL(), "t", identity.WithContactCache(1<<20))
}

// TestRedisSentinelConformance runs the suite through Sentinel, then moves
// the master role to the replica and runs it again on the same store:
// what was written before the switch is found after it.
func TestRedisSentinelConformance(t *testing.T) {
	s := testenv.RedisSentinel(t)
	runConformance(t, s.URL(), "before")

	store := newRedis(t, s.URL(), identity.WithKeyPrefix("kept:"))
	ctx := context.Background()
	before, err := resolveOne(ctx, store, emailOp("before@x"))
	if err != nil || !before.Created {
		t.Fatalf("resolve before failover: %+v %v", before, err)
	}
	// The switch waits for nothing: make the write reach the replica first.
	if err := store.Client().Do(ctx, "wait", 1, 5000).Err(); err != nil {
		t.Fatal(err)
	}
	s.FailOver(false)
	var after identity.ResolveResult
	retryUnavailable(t, func() error { after, err = resolveOne(ctx, store, emailOp("before@x")); return err })
	if !after.Found || after.Created || after.Contact.ID != before.Contact.ID {
		t.Fatalf("after failover: %+v, want the contact %s found", after, before.Contact.ID)
	}
	runConformance(t, s.URL(), "after", identity.WithContactCache(1<<20))
}

// retryUnavailable calls f until it succeeds; while the servers fail over,
// ErrUnavailable is the only error allowed.
func retryUnavailable(t *testing.T, f func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if !errors.Is(err, identity.ErrUnavailable) {
			t.Fatalf("during failover: %v, want only ErrUnavailable", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("still unavailable after failover: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRedisClusterFlushAndRestore: Flush removes the store's keys from
// every master (graph and claims, on several shards) and leaves another
// prefix's alone; Restore then brings a contact and a claim back.
func TestRedisClusterFlushAndRestore(t *testing.T) {
	c := testenv.RedisCluster(t)
	ctx := context.Background()
	s := newRedis(t, c.URL(), identity.WithKeyPrefix("f:"))
	other := newRedis(t, c.URL(), identity.WithKeyPrefix("o:"))
	for i := range 20 {
		op := emailOp(fmt.Sprintf("p%d@x", i))
		op.IdempotencyKey = fmt.Sprintf("evt-%d", i)
		if _, err := resolveOne(ctx, s, op); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := resolveOne(ctx, other, emailOp("kept@x")); err != nil {
		t.Fatal(err)
	}
	count := func(pattern string) int {
		// ForEachMaster calls its masters concurrently.
		var n atomic.Int64
		err := s.Client().(*redis.ClusterClient).ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			keys, err := m.Keys(ctx, pattern).Result()
			n.Add(int64(len(keys)))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return int(n.Load())
	}
	if n := count("f:i:*"); n != 20 {
		t.Fatalf("%d claim keys before flush, want 20", n)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count("f:*"); n != 0 {
		t.Fatalf("%d keys of the prefix after flush", n)
	}
	if cs, err := other.Find(ctx, "kept@x", ""); err != nil || len(cs) != 1 {
		t.Fatalf("other prefix after flush: %v %v", cs, err)
	}
	id := uuid.Must(uuid.NewV7())
	snap := canonical.Snapshot{
		Contacts:    []canonical.Contact{{ID: id, Email: "back@x", Version: 7}},
		Aliases:     []canonical.Alias{{Kind: canonical.KindEmail, Value: "back@x", ContactID: id, Version: 7}},
		Idempotency: []canonical.IdempotencyClaim{{Key: "evt-back", ExpiresAt: time.Now().Add(time.Hour).UnixMilli()}},
	}
	if err := s.Restore(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if cs, err := s.Find(ctx, "back@x", ""); err != nil || len(cs) != 1 || cs[0].ID != id {
		t.Fatalf("find after restore: %v %v", cs, err)
	}
	op := emailOp("back@x")
	op.IdempotencyKey = "evt-back"
	if r, err := resolveOne(ctx, s, op); err != nil || !r.Duplicate {
		t.Fatalf("restored claim: %+v %v, want a duplicate", r, err)
	}
}

// TestRedisSentinelPasswords: with requirepass on the data servers and on
// the Sentinels, the URL's user is the master's password and
// sentinel_password the Sentinels'; a wrong master password is refused at
// start, not retried as an outage.
func TestRedisSentinelPasswords(t *testing.T) {
	s := testenv.RedisSentinelWithPasswords(t, "master-pw", "sentinel-pw")
	store := newRedis(t, s.URL())
	ctx := context.Background()
	if r, err := resolveOne(ctx, store, emailOp("pw@x")); err != nil || !r.Created {
		t.Fatalf("resolve with passwords: %+v %v", r, err)
	}
	wrong := strings.Replace(s.URL(), ":master-pw@", ":nope@", 1)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if r, err := identity.NewRedis(cctx, wrong); err == nil {
		r.Close()
		t.Fatal("a wrong master password was accepted")
	} else if errors.Is(err, identity.ErrUnavailable) || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("wrong master password: %v, want the server's WRONGPASS refusal", err)
	}
}

// TestRedisClusterFailedCallReleasesItsClaims: with the graph's master
// killed, a native op whose claim lives on another shard fails as
// unavailable, and its claim, written there, is released: once the replica
// has taken over, the retry claims it rather than being told it is pending.
func TestRedisClusterFailedCallReleasesItsClaims(t *testing.T) {
	redis.SetLogger(quietLogger{})
	c := testenv.RedisCluster(t)
	s := newRedis(t, c.URL())
	ctx := context.Background()
	graphMaster := c.MasterOf("hs:{g}:seq")
	key := ""
	for i := 0; key == ""; i++ {
		if k := fmt.Sprintf("evt-%d", i); c.MasterOf("hs:i:"+k) != graphMaster {
			key = k
		}
	}
	op := emailOp("claim@x")
	op.IdempotencyKey = key
	if _, err := resolveOne(ctx, s, emailOp("warm@x")); err != nil {
		t.Fatal(err)
	}
	c.KillMasterOf("hs:{g}:seq")
	if _, err := resolveOne(ctx, s, op); !errors.Is(err, identity.ErrUnavailable) {
		t.Fatalf("resolve with the graph's master dead: %v, want ErrUnavailable", err)
	}
	c.WaitFailover(graphMaster, 60*time.Second)
	var r identity.ResolveResult
	var err error
	retryUnavailable(t, func() error { r, err = resolveOne(ctx, s, op); return err })
	if r.ClaimPending || r.Duplicate || !r.Found {
		t.Fatalf("retry after failover: %+v, want its claim free", r)
	}
}

// TestRedisClusterPlacement: the graph's keys are all on the master of its
// hash tag, and claims of their own spread over every master.
func TestRedisClusterPlacement(t *testing.T) {
	c := testenv.RedisCluster(t)
	s := newRedis(t, c.URL())
	ctx := context.Background()
	ops := make([]identity.ResolveOp, 300)
	for i := range ops {
		ops[i] = emailOp(fmt.Sprintf("p%d@x", i))
		ops[i].IdempotencyKey = fmt.Sprintf("evt-%d", i)
	}
	if err := s.Resolve(ctx, ops, make([]identity.ResolveResult, len(ops))); err != nil {
		t.Fatal(err)
	}
	graphMaster := c.MasterOf("hs:{g}:seq").Addr
	graphKeys, claims := map[string]int{}, map[string]int{}
	var mu sync.Mutex
	err := s.Client().(*redis.ClusterClient).ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		g, err := m.Keys(ctx, "hs:{g}:*").Result()
		if err != nil {
			return err
		}
		i, err := m.Keys(ctx, "hs:i:*").Result()
		mu.Lock()
		graphKeys[m.Options().Addr], claims[m.Options().Addr] = len(g), len(i)
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("graph keys by master %v, claims by master %v", graphKeys, claims)
	if len(claims) != 3 {
		t.Fatalf("%d masters, want 3", len(claims))
	}
	for addr, n := range graphKeys {
		if want := addr == graphMaster; (n > 0) != want {
			t.Errorf("master %s holds %d graph keys (graph's master %s)", addr, n, graphMaster)
		}
	}
	for addr, n := range claims {
		// 300 keys over three masters: a third each, give or take.
		if n < 50 {
			t.Errorf("master %s holds %d of 300 claims", addr, n)
		}
	}
}
