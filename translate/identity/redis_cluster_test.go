package identity_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/identity/identitytest"
)

// TestRedisClusterConformance runs the suite on a Redis Cluster of three
// masters: every script's keys must be in one slot, or the cluster refuses
// the call (CROSSSLOT, or a key of another node).
func TestRedisClusterConformance(t *testing.T) {
	c := testenv.RedisCluster(t)
	var n atomic.Int64
	identitytest.Run(t, func(t *testing.T) identity.Store {
		return newRedis(t, c.URL(), identity.WithKeyPrefix(fmt.Sprintf("t%d:", n.Add(1))))
	})
}

// TestRedisSentinelConformance runs the suite through Sentinel, then moves
// the master role to the replica and runs it again on the same store:
// what was written before the switch is found after it.
func TestRedisSentinelConformance(t *testing.T) {
	s := testenv.RedisSentinel(t)
	var n atomic.Int64
	mk := func(t *testing.T) identity.Store {
		return newRedis(t, s.URL(), identity.WithKeyPrefix(fmt.Sprintf("t%d:", n.Add(1))))
	}
	identitytest.Run(t, mk)

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
	identitytest.Run(t, mk)
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
