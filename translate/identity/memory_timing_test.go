package identity_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

func BenchmarkMemoryResolve(b *testing.B) {
	benchmarkResolve(b, func(testing.TB) identity.Store { return identity.NewMemory() })
}

// benchmarkResolve measures the hot path: events for known contacts (email +
// user id, two property sets, an idempotency key), singly and in batches of 64,
// plus first sight of new contacts.
func benchmarkResolve(b *testing.B, newStore func(testing.TB) identity.Store) {
	const contacts = 1024
	benchOp := func(i int, idem string) identity.ResolveOp {
		return identity.ResolveOp{
			Keys: []identity.Key{
				{Kind: canonical.KindExternal, Value: fmt.Sprintf("user-%d", i%contacts)},
				{Kind: canonical.KindEmail, Value: fmt.Sprintf("user-%d@example.com", i%contacts)},
			},
			Set: []identity.Prop{
				{Name: "plan", Value: []byte(`"pro"`)},
				{Name: "last_page", Value: []byte(`"/pricing"`)},
			},
			NewID:          uuid.Must(uuid.NewV7()),
			IdempotencyKey: idem,
			Now:            1_700_000_000_000,
		}
	}
	seed := func(b *testing.B, s identity.Store) {
		ops := make([]identity.ResolveOp, contacts)
		for i := range ops {
			ops[i] = benchOp(i, "")
		}
		if err := s.Resolve(context.Background(), ops, make([]identity.ResolveResult, contacts)); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("single", func(b *testing.B) {
		s := newStore(b)
		seed(b, s)
		ops := make([]identity.ResolveOp, contacts)
		for i := range ops {
			ops[i] = benchOp(i, "")
		}
		res := make([]identity.ResolveResult, 1)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			ops[i%contacts].IdempotencyKey = fmt.Sprint("s", i)
			if err := s.Resolve(ctx, ops[i%contacts:i%contacts+1], res); err != nil || res[0].Err != nil {
				b.Fatal(err, res[0].Err)
			}
		}
	})
	b.Run("single-parallel", func(b *testing.B) {
		s := newStore(b)
		seed(b, s)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			res := make([]identity.ResolveResult, 1)
			ops := []identity.ResolveOp{benchOp(0, "")}
			ctx := context.Background()
			for i := 0; pb.Next(); i++ {
				ops[0].Keys[0].Value = fmt.Sprintf("user-%d", i%contacts)
				ops[0].Keys[1].Value = fmt.Sprintf("user-%d@example.com", i%contacts)
				if err := s.Resolve(ctx, ops, res); err != nil || res[0].Err != nil {
					b.Error(err, res[0].Err)
					return
				}
			}
		})
	})
	b.Run("batch64", func(b *testing.B) {
		s := newStore(b)
		seed(b, s)
		ops := make([]identity.ResolveOp, 64)
		res := make([]identity.ResolveResult, 64)
		for i := range ops {
			ops[i] = benchOp(i*16, "")
		}
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			for j := range ops {
				ops[j].IdempotencyKey = fmt.Sprint("b", i, "-", j)
			}
			if err := s.Resolve(ctx, ops, res); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/op-in-batch")
	})
	b.Run("create", func(b *testing.B) {
		s := newStore(b)
		res := make([]identity.ResolveResult, 1)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			op := benchOp(0, "")
			op.Keys = op.Keys[1:]
			op.Keys[0].Value = fmt.Sprintf("new-%d@example.com", i)
			if err := s.Resolve(ctx, []identity.ResolveOp{op}, res); err != nil || !res[0].Created {
				b.Fatal(err, res[0])
			}
		}
	})
}
