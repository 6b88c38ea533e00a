package clickhouse

import (
	"testing"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// insertBenchRows is the rows of one insert: a writer flush under load.
const insertBenchRows = 10000

// BenchmarkClusterInsert compares one insert of events into one server,
// into a 2 shards × 2 replicas cluster through the Distributed table
// (synchronous, what the proxy does), and straight into one shard's
// replicated table (what a client sharding by itself would do per shard);
// docs/clickhouse-cluster.md § 3 has the figures.
func BenchmarkClusterInsert(b *testing.B) {
	one := testenv.ClickHouse(b)
	c := testenv.StartClickHouseCluster(b, 2, 2)
	ctx := testContext(b)
	single, err := OpenServer(ctx, one.ClickHouseURL("bench"))
	if err != nil {
		b.Fatal(err)
	}
	defer single.Close()
	dist, err := OpenCluster(ctx, c.URL("bench"), testenv.ClusterName)
	if err != nil {
		b.Fatal(err)
	}
	defer dist.Close()
	for _, s := range []*Server{single, dist} {
		if err := s.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
	}
	direct := directShardTable(b, dist, c)
	defer direct.Close()
	for _, run := range []struct {
		name string
		s    *Server
	}{{"one-server", single}, {"distributed-sync", dist}, {"shard-direct", direct}} {
		b.Run(run.name, func(b *testing.B) {
			from := 0
			for b.Loop() {
				if err := run.s.InsertEvents(ctx, testEvents(from, insertBenchRows)); err != nil {
					b.Fatal(err)
				}
				from += insertBenchRows
			}
			b.ReportMetric(float64(from)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// directShardTable creates database direct with user_events a replicated
// table per shard (no Distributed table) and returns a Server on shard 1's
// first replica, which inserts into it directly.
func directShardTable(b *testing.B, dist *Server, c *testenv.ClickHouseCluster) *Server {
	b.Helper()
	ctx := testContext(b)
	for _, stmt := range []string{
		"CREATE DATABASE IF NOT EXISTS direct ON CLUSTER " + testenv.ClusterName,
		"CREATE TABLE IF NOT EXISTS direct.user_events ON CLUSTER " + testenv.ClusterName + " AS bench.user_events_local" +
			" ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/direct/user_events', '{replica}')" +
			" PARTITION BY toYYYYMM(occurred_at) ORDER BY (user_id, event, occurred_at, id)",
	} {
		if err := dist.exec(ctx, stmt); err != nil {
			b.Fatalf("%s: %v", stmt, err)
		}
	}
	s, err := OpenServer(ctx, c.Shards[0][0].ClickHouseURL("direct"))
	if err != nil {
		b.Fatal(err)
	}
	return s
}
