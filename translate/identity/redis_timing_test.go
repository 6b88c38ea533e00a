package identity_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

func BenchmarkRedisResolve(b *testing.B) {
	srv := testenv.Redis(b)
	var n atomic.Int64
	benchmarkResolve(b, func(tb testing.TB) identity.Store {
		return newRedis(tb, srv.RedisURL(), identity.WithKeyPrefix(fmt.Sprintf("b%d:", n.Add(1))))
	})
}

// BenchmarkRedisClaims measures the claims of a PostHog /batch/ request: 50
// claim-only ops under one ticket, as Capture sends for one person's events.
// redis-µs/claim is Redis's own time in its commands (INFO commandstats), the
// figure that bounds a single Redis: UUIDv7 claims are bucket fields
// (HSETNX), UUIDv4 ones keys of their own (SET NX PXAT).
func BenchmarkRedisClaims(b *testing.B) {
	srv := testenv.Redis(b)
	for _, kind := range []struct {
		name string
		gen  func() (uuid.UUID, error)
	}{{"uuidv7", uuid.NewV7}, {"uuidv4", uuid.NewRandom}} {
		b.Run(kind.name, func(b *testing.B) {
			s := newRedis(b, srv.RedisURL(), identity.WithKeyPrefix("bc"+kind.name+":"))
			ctx := context.Background()
			ops := make([]identity.ResolveOp, 50)
			res := make([]identity.ResolveResult, len(ops))
			usec0 := commandMicros(b, s)
			b.ReportAllocs()
			for b.Loop() {
				now := time.Now().UnixMilli()
				ticket := identity.NewClaimTicket(now)
				for i := range ops {
					ops[i] = identity.ResolveOp{ClaimOnly: true, IdempotencyKey: "ph:" + uuid.Must(kind.gen()).String(),
						ClaimTicket: ticket, Now: now}
				}
				if err := s.Resolve(ctx, ops, res); err != nil {
					b.Fatal(err)
				}
				if res[0].Err != nil || res[0].Duplicate || res[0].ClaimPending {
					b.Fatalf("claim: %+v", res[0])
				}
			}
			b.ReportMetric((commandMicros(b, s)-usec0)/float64(b.N*len(ops)), "redis-µs/claim")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ops)), "ns/claim")
		})
	}
}

// commandMicros is the server time Redis has spent in commands so far.
func commandMicros(b *testing.B, s *identity.Redis) float64 {
	b.Helper()
	info, err := s.Client().Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, st := range testenv.ParseRedisCommandStats(info) {
		total += st.Usec
	}
	return float64(total)
}

// BenchmarkRedisTouches measures the resolve of a server SDK's /batch/ of
// known people: 50 ops of 50 distinct ids the cache holds, which all touch
// in one script call. redis-µs/touch is Redis's own time, ns/touch and the
// allocations the proxy's side of it.
func BenchmarkRedisTouches(b *testing.B) {
	const people, perCall = 5_000, 50
	srv := testenv.Redis(b)
	s := newRedis(b, srv.RedisURL(), identity.WithKeyPrefix("bt:"), identity.WithContactCache(32<<20))
	ctx := context.Background()
	ops := make([]identity.ResolveOp, perCall)
	res := make([]identity.ResolveResult, perCall)
	call := func(person func(i int) int) {
		now := time.Now().UnixMilli()
		for i := range ops {
			ops[i] = identity.ResolveOp{Distinct: fmt.Sprintf("visitor-%d", person(i)), Trust: identity.TrustPublic,
				Source: "posthog", NewID: uuid.Must(uuid.NewV7()), Now: now}
		}
		if err := s.Resolve(ctx, ops, res); err != nil {
			b.Fatal(err)
		}
		if res[0].Err != nil || !res[0].Found {
			b.Fatalf("resolve: %+v", res[0])
		}
	}
	for from := 0; from < people; from += perCall {
		call(func(i int) int { return from + i })
	}
	touches0, _ := s.TouchCounts()
	usec0 := commandMicros(b, s)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		call(func(int) int { n = (n + 7919) % people; return n })
	}
	if touches, stale := s.TouchCounts(); touches-touches0 != uint64(b.N*perCall) || stale != 0 {
		b.Fatalf("%d touches (%d stale) for %d ops: not every op touched", touches-touches0, stale, b.N*perCall)
	}
	b.ReportMetric((commandMicros(b, s)-usec0)/float64(b.N*perCall), "redis-µs/touch")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perCall), "ns/touch")
}
