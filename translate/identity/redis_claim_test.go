package identity_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// TestRedisClaimLayout: PostHog UUIDv7 claims are fields of the hash of their
// uuid's second, and every write keeps that hash a window from now (never
// less than it had); other claims stay keys of their own. The conformance
// suite checks the behaviour with both kinds of keys; this checks where
// they live.
func TestRedisClaimLayout(t *testing.T) {
	srv := testenv.Redis(t)
	s := newRedis(t, srv.RedisURL())
	c := s.Client()
	ctx := context.Background()
	now := time.Now().UnixMilli()

	v7 := func(ms int64, tail uint64) uuid.UUID {
		var u uuid.UUID
		for i := 0; i < 6; i++ {
			u[i] = byte(ms >> (40 - 8*i))
		}
		for i := 8; i < 16; i++ {
			u[i] = byte(tail >> (8 * (15 - i)))
		}
		u[6], u[8] = 0x70, 0x80|u[8]&0x3f
		return u
	}
	sec := (now - 5000) / 1000 * 1000 // a second's start, events sent 5 s ago
	a, b, other := v7(sec+10, 1), v7(sec+990, 2), v7(sec+1000, 3)
	v4 := uuid.New()
	bucket := func(u uuid.UUID) string {
		ms := int64(u[0])<<40 | int64(u[1])<<32 | int64(u[2])<<24 | int64(u[3])<<16 | int64(u[4])<<8 | int64(u[5])
		return "hs:ib:" + strconv.FormatInt(ms/1000, 10)
	}
	if bucket(a) != bucket(b) || bucket(a) == bucket(other) {
		t.Fatalf("test uuids: buckets %s %s %s", bucket(a), bucket(b), bucket(other))
	}
	pttl := func(key string) time.Duration {
		t.Helper()
		d, err := c.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	near := func(what string, got, want time.Duration) {
		t.Helper()
		if got > want || got < want-10*time.Second {
			t.Errorf("%s: ttl %v, want about %v", what, got, want)
		}
	}
	field := func(key string, u uuid.UUID) (string, bool) {
		t.Helper()
		v, err := c.HGet(ctx, key, string(u[:])).Result()
		if err == redis.Nil {
			return "", false
		}
		if err != nil {
			t.Fatal(err)
		}
		return v, true
	}

	// One PostHog batch: a resolve op and claim-only ops under one ticket.
	ticket := identity.NewClaimTicket(now)
	full := emailOp("layout@x")
	full.IdempotencyKey, full.ClaimTicket, full.Now = "ph:"+a.String(), ticket, now
	claim := func(key string) identity.ResolveOp {
		return identity.ResolveOp{ClaimOnly: true, IdempotencyKey: key, ClaimTicket: ticket, Now: now}
	}
	ops := []identity.ResolveOp{full, claim("ph:" + b.String()), claim("ph:" + other.String()), claim("ph:" + v4.String())}
	res := make([]identity.ResolveResult, len(ops))
	if err := s.Resolve(ctx, ops, res); err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.Duplicate || r.ClaimPending {
			t.Fatalf("op %d: %+v", i, r)
		}
	}
	if !res[0].Created {
		t.Errorf("the resolve op did not run beside its bucketed claim: %+v", res[0])
	}
	for _, u := range []uuid.UUID{a, b, other} {
		if v, ok := field(bucket(u), u); !ok || v != "t"+ticket {
			t.Errorf("claim of %s in %s: %q %v, want the ticket", u, bucket(u), v, ok)
		}
	}
	if n := c.HLen(ctx, bucket(a)).Val(); n != 2 {
		t.Errorf("bucket %s holds %d claims, want 2", bucket(a), n)
	}
	window := identity.DefaultIdempotencyWindow
	near("bucket", pttl(bucket(a)), window)
	near("v4 claim key", pttl("hs:i:ph:"+v4.String()), window)
	if n := c.Exists(ctx, "hs:i:ph:"+a.String()).Val(); n != 0 {
		t.Errorf("a UUIDv7 claim also written as a key")
	}

	// A shorter window never shortens a bucket; a longer one extends it.
	short := identity.ResolveOp{ClaimOnly: true, IdempotencyKey: "ph:" + v7(sec+500, 4).String(), IdempotencyWindow: time.Hour, Now: now}
	if err := s.Resolve(ctx, []identity.ResolveOp{short}, res[:1]); err != nil || res[0].Err != nil {
		t.Fatal(err, res[0].Err)
	}
	near("bucket after a 1 h claim", pttl(bucket(a)), window)
	long := short
	long.IdempotencyKey, long.IdempotencyWindow = "ph:"+v7(sec+600, 5).String(), 30*24*time.Hour
	if err := s.Resolve(ctx, []identity.ResolveOp{long}, res[:1]); err != nil || res[0].Err != nil {
		t.Fatal(err, res[0].Err)
	}
	near("bucket after a 30 d claim", pttl(bucket(a)), 30*24*time.Hour)

	// A bucket of a second more than two windows old keeps the expiry its
	// first write gave it: later writes do not extend it.
	oldSec := (now - 30*24*time.Hour.Milliseconds()) / 1000 * 1000
	ancient := v7(oldSec+10, 8)
	first := identity.ResolveOp{ClaimOnly: true, IdempotencyKey: "ph:" + ancient.String(), IdempotencyWindow: time.Hour, Now: now}
	if err := s.Resolve(ctx, []identity.ResolveOp{first}, res[:1]); err != nil || res[0].Err != nil {
		t.Fatal(err, res[0].Err)
	}
	sibling := v7(oldSec+20, 9)
	later := identity.ResolveOp{ClaimOnly: true, IdempotencyKey: "ph:" + sibling.String(), Now: now}
	if bucket(sibling) != bucket(ancient) {
		t.Fatal("test uuids: not one bucket")
	}
	if err := s.Resolve(ctx, []identity.ResolveOp{later}, res[:1]); err != nil || res[0].Err != nil || res[0].Duplicate {
		t.Fatal(err, res[0])
	}
	near("old bucket after a 7 d claim", pttl(bucket(ancient)), time.Hour)

	// Unticketed, a claim is pending with its deadline in the value until
	// confirmed; released, it is gone.
	lone := v7(sec+700, 6)
	pend := identity.ResolveOp{ClaimOnly: true, IdempotencyKey: "ph:" + lone.String(), Now: now}
	if err := s.Resolve(ctx, []identity.ResolveOp{pend}, res[:1]); err != nil || res[0].Err != nil {
		t.Fatal(err, res[0].Err)
	}
	deadline := strconv.FormatInt(now+identity.PendingClaimWindow.Milliseconds(), 36)
	if v, _ := field(bucket(lone), lone); v != "p"+deadline {
		t.Errorf("pending claim %q, want p%s", v, deadline)
	}
	if err := s.ConfirmIdempotency(ctx, []string{pend.IdempotencyKey}, nil, time.Hour); err != nil {
		t.Fatal(err)
	}
	if v, _ := field(bucket(lone), lone); v != "1" {
		t.Errorf("confirmed claim %q, want 1", v)
	}
	if err := s.ReleaseIdempotency(ctx, []string{pend.IdempotencyKey, "ph:" + v4.String()}); err != nil {
		t.Fatal(err)
	}
	if _, ok := field(bucket(lone), lone); ok {
		t.Errorf("released claim still in its bucket")
	}
	if n := c.Exists(ctx, "hs:i:ph:"+v4.String()).Val(); n != 0 {
		t.Errorf("released v4 claim key still there")
	}

	// Restore confirms a bucket's claim and keeps the bucket to its expiry.
	old := v7(sec-86_400_000, 7)
	expAt := now + 3*24*time.Hour.Milliseconds()
	snap := canonical.Snapshot{Idempotency: []canonical.IdempotencyClaim{{Key: "ph:" + old.String(), ExpiresAt: expAt}}}
	if err := s.Restore(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if v, ok := field(bucket(old), old); !ok || v != "1" {
		t.Errorf("restored claim %q %v, want 1", v, ok)
	}
	near("restored bucket", pttl(bucket(old)), 3*24*time.Hour)
	dup := identity.ResolveOp{ClaimOnly: true, IdempotencyKey: "ph:" + old.String(), Now: now}
	if err := s.Resolve(ctx, []identity.ResolveOp{dup}, res[:1]); err != nil || !res[0].Duplicate {
		t.Errorf("restored claim: %v %+v, want a duplicate", err, res[0])
	}
	if keys := c.Keys(ctx, "hs:i:ph:*").Val(); len(keys) != 0 {
		t.Errorf("claim keys left: %s", strings.Join(keys, " "))
	}
}
