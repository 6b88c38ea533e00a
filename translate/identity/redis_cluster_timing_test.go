package identity_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// BenchmarkRedisClusterGraphShard measures the limit of the identity graph
// on a Redis Cluster: every resolve runs on the one master of the graph's
// hash tag (docs/redis-cluster.md § 2). Parallel callers send batches of 64
// native ops, each on one of 10,000 people (created before the timer)
// with an idempotency key of its own. graph-µs/resolve is the graph master's own time in commands per
// resolve (INFO commandstats), so 1e6 / it (graph-max-resolves/s) is what
// one shard's thread can serve however many proxies call it; claims go to
// the other masters and are not in it.
func BenchmarkRedisClusterGraphShard(b *testing.B) {
	cluster := testenv.RedisCluster(b)
	s := newRedis(b, cluster.URL())
	graph := redis.NewClient(&redis.Options{Addr: cluster.MasterOf("hs:{g}:seq").Addr})
	defer graph.Close()
	ctx := context.Background()
	const people, batch = 10_000, 64
	var seq atomic.Int64
	op := func() identity.ResolveOp {
		n := seq.Add(1)
		p := n % people
		return identity.ResolveOp{
			Keys: []identity.Key{{Kind: canonical.KindExternal, Value: fmt.Sprintf("user-%d", p)},
				{Kind: canonical.KindEmail, Value: fmt.Sprintf("user-%d@example.com", p)}},
			Set:            []identity.Prop{{Name: "plan", Value: []byte(`"pro"`)}},
			NewID:          uuid.Must(uuid.NewV7()),
			IdempotencyKey: fmt.Sprintf("evt-%d", n),
		}
	}
	// Every person exists before the measurement, as in steady traffic.
	seed := make([]identity.ResolveOp, batch)
	for range people / batch {
		for i := range seed {
			seed[i] = op()
		}
		if err := s.Resolve(ctx, seed, make([]identity.ResolveResult, batch)); err != nil {
			b.Fatal(err)
		}
	}
	if err := graph.ConfigResetStat(ctx).Err(); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ops := make([]identity.ResolveOp, batch)
		res := make([]identity.ResolveResult, batch)
		for pb.Next() {
			for i := range ops {
				ops[i] = op()
			}
			if err := s.Resolve(ctx, ops, res); err != nil || res[0].Err != nil {
				b.Error(err, res[0].Err)
				return
			}
		}
	})
	b.StopTimer()
	info, err := graph.Info(ctx, "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var usec int64
	for _, st := range testenv.ParseRedisCommandStats(info) {
		usec += st.Usec
	}
	resolves := float64(b.N * batch)
	b.ReportMetric(resolves/b.Elapsed().Seconds(), "resolves/s")
	b.ReportMetric(float64(usec)/resolves, "graph-µs/resolve")
	b.ReportMetric(resolves*1e6/float64(max(usec, 1)), "graph-max-resolves/s")
}
