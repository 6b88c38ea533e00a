package main

import (
	"fmt"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// fleetOptions choose what the fleet scenario's proxies share
// (docs/operations.md § Fleet benchmark).
type fleetOptions struct {
	// on is "cluster" (a Redis Cluster and a sharded ClickHouse) or
	// "single" (one redis-server and one clickhouse-server).
	on string
	// redisReplicas is the replicas per Redis master, chReplicas the
	// replicas per ClickHouse shard, on "cluster".
	redisReplicas, chReplicas int
	// batchDelay, when set, is every proxy's HOGSEND_CLICKHOUSE_BATCH_DELAY:
	// each proxy inserts once per delay, so a fleet's inserts per shard per
	// second grow with its size unless the delay does.
	batchDelay time.Duration
	// knownPeople introduces every contact to every proxy first
	// (knowFleet), as -known-people does for the events scenario.
	knownPeople bool
}

// chShards is the number of ClickHouse shards on "cluster".
const chShards = 2

// fleetBackend is the Redis and ClickHouse the proxies of the fleet
// scenario share, and the URLs and settings that name them to a proxy.
type fleetBackend struct {
	redisURL, chURL string
	proxyEnv        []string
	redisNodes      []*testenv.Process
	// shards[s][r] is replica r of ClickHouse shard s; one server is one shard.
	shards    [][]*testenv.Process
	zookeeper *testenv.Process
	label     string
}

func startFleetBackend(env *benchEnv, o fleetOptions) (*fleetBackend, error) {
	b, err := startFleetServers(env, o)
	if err == nil && o.batchDelay > 0 {
		b.proxyEnv = append(b.proxyEnv, "HOGSEND_CLICKHOUSE_BATCH_DELAY="+o.batchDelay.String())
		b.label += fmt.Sprintf(", proxies inserting every %s", o.batchDelay)
	}
	return b, err
}

func startFleetServers(env *benchEnv, o fleetOptions) (*fleetBackend, error) {
	switch o.on {
	case "single":
		fmt.Println("starting redis-server and clickhouse-server on loopback …")
		r, ch := testenv.Redis(env), testenv.ClickHouse(env)
		return &fleetBackend{redisURL: r.RedisURL(), chURL: ch.ClickHouseURL("hogsend"),
			redisNodes: []*testenv.Process{r}, shards: [][]*testenv.Process{{ch}},
			label: "one Redis and one ClickHouse"}, nil
	case "cluster":
		return startClusterBackend(env, o), nil
	}
	return nil, fmt.Errorf("-fleet-on %q: want cluster or single", o.on)
}

func startClusterBackend(env *benchEnv, o fleetOptions) *fleetBackend {
	fmt.Printf("starting a Redis Cluster of 3 masters × %d replicas, ZooKeeper and ClickHouse %d shards × %d replicas on loopback …\n",
		o.redisReplicas, chShards, o.chReplicas)
	rc := testenv.RedisClusterOf(env, o.redisReplicas)
	ch := testenv.StartClickHouseCluster(env, chShards, o.chReplicas)
	return &fleetBackend{
		redisURL: rc.URL(), chURL: ch.URL("hogsend"),
		proxyEnv:   []string{"HOGSEND_CLICKHOUSE_CLUSTER=" + testenv.ClusterName},
		redisNodes: rc.Nodes, shards: ch.Shards, zookeeper: ch.ZooKeeper,
		label: fmt.Sprintf("a Redis Cluster of 3 masters × %d replicas and ClickHouse %d shards × %d replicas",
			o.redisReplicas, chShards, o.chReplicas),
	}
}

// processes names every server process, for the CPU meter.
func (b *fleetBackend) processes() (names []string, pids []int) {
	for i, p := range b.redisNodes {
		names, pids = append(names, fmt.Sprintf("redis %d", i+1)), append(pids, p.PID())
	}
	if b.zookeeper != nil {
		names, pids = append(names, "zookeeper"), append(pids, b.zookeeper.PID())
	}
	for s, shard := range b.shards {
		for r, p := range shard {
			names, pids = append(names, fmt.Sprintf("clickhouse s%dr%d", s+1, r+1)), append(pids, p.PID())
		}
	}
	return names, pids
}
