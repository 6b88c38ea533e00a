package main

import (
	"fmt"
	"sync"
	"time"
)

// The fleet scenario (docs/operations.md § Fleet benchmark): the same
// native load on one proxy, then spread over three sharing its Redis and
// ClickHouse, by default a Redis Cluster and a sharded ClickHouse. On one
// machine three proxies are not faster; what it shows is whether anything
// per instance or per shard grows with their number: Redis commands and
// bytes per event on each master, ClickHouse inserts and parts per event on
// each shard.

// fleetSize is the number of proxies of the second run.
const fleetSize = 3

// fleetRun is one measured run of the scenario.
type fleetRun struct {
	proxies  int
	acked    int64
	elapsed  time.Duration
	p50, p99 time.Duration
	errors   int
	// redis is each master's work over the run, shards each ClickHouse
	// shard's, batches the inserts the proxies made.
	redis   []redisNode
	shards  []chShard
	batches int64
	// fsyncs is the proxies' spool fsyncs: each proxy commits its own
	// groups, so the events a group carries shrink as the fleet grows.
	fsyncs int64
	cpu    string
}

func runFleet(env *benchEnv, o fleetOptions, duration, warmup time.Duration, conns, contacts int) error {
	defer env.close()
	if err := requireWrk(); err != nil {
		return err
	}
	b, err := startFleetBackend(env, o)
	if err != nil {
		return err
	}
	fleet, key, err := startFleet(env, b)
	if err != nil {
		return err
	}
	if o.knownPeople {
		if err := knowFleet(fleet, key, conns, contacts); err != nil {
			return err
		}
	}
	fmt.Printf("fleet: warm-up %s, then %s of POST /v1/events over %d connections, on 1 proxy, then on %d, sharing %s\n",
		warmup, duration, conns, fleetSize, b.label)
	one, err := measureFleet(env, b, fleet, 1, key, duration, warmup, conns, contacts)
	if err != nil {
		return err
	}
	many, err := measureFleet(env, b, fleet, fleetSize, key, duration, warmup, conns, contacts)
	if err != nil {
		return err
	}
	printFleet(b.label, one, many)
	return nil
}

// startFleet starts fleetSize proxies on the backend, one after another
// (the first migrates the tables), and mints the load's key.
func startFleet(env *benchEnv, b *fleetBackend) ([]*proxyProc, string, error) {
	var fleet []*proxyProc
	for len(fleet) < fleetSize {
		p, err := startProxy(env, b.redisURL, b.chURL, false, b.proxyEnv...)
		if err != nil {
			return nil, "", err
		}
		fleet = append(fleet, p)
	}
	key, err := mintKey(fleet[0].base, "bench-admin-key")
	return fleet, key, err
}

func requireWrk() error {
	o := deliveryOptions{generator: "wrk"}
	o.useGenerator()
	if o.generator != "wrk" {
		return fmt.Errorf("the fleet scenario drives each proxy with its own wrk; install wrk")
	}
	return nil
}

// measureFleet drives the load over the first n proxies of all, conns
// split evenly, one wrk per proxy (a round-robin balancer's share), and
// reads what every Redis master and ClickHouse shard did for it. The CPU of
// the proxies left idle is measured too: what a proxy costs unloaded.
func measureFleet(env *benchEnv, b *fleetBackend, all []*proxyProc, n int, key string, duration, warmup time.Duration, conns, contacts int) (*fleetRun, error) {
	fleet := all[:n]
	if _, err := driveFleet(env, fleet, key, warmup, conns, contacts); err != nil {
		return nil, err
	}
	counters, err := startFleetCounters(b, all)
	if err != nil {
		return nil, err
	}
	meter := fleetCPU(b, all, n)
	res, err := driveFleet(env, fleet, key, duration, conns, contacts)
	if err != nil {
		return nil, err
	}
	if res.acked == 0 {
		return nil, fmt.Errorf("fleet of %d: no event acknowledged, %d errors", len(fleet), res.errors)
	}
	run := &fleetRun{proxies: len(fleet), acked: res.acked, elapsed: res.elapsed, p50: res.p(0.5), p99: res.p(0.99), errors: int(res.errors)}
	run.cpu = meter.report(res.acked, res.elapsed)
	return run, counters.since(run, b, all)
}

// fleetCounters are the Redis, ClickHouse and proxy counters at the start
// of a run's measured load.
type fleetCounters struct {
	redis           []redisNode
	ch              *chShardStats
	batches, fsyncs int64
}

// startFleetCounters waits until ClickHouse has stored every acknowledged
// event, so that its counters cover the measured events and not the
// writers' lag, and reads (Redis: resets) every counter.
func startFleetCounters(b *fleetBackend, all []*proxyProc) (*fleetCounters, error) {
	if err := awaitFleetStored(b, all); err != nil {
		return nil, err
	}
	c := &fleetCounters{}
	var err error
	if c.redis, err = readRedisNodes(b.redisNodes, true); err != nil {
		return nil, err
	}
	if c.ch, err = newCHShardStats(b.shards); err != nil {
		return nil, err
	}
	if c.batches, err = fleetMetric(all, insertBatches); err != nil {
		return nil, err
	}
	c.fsyncs, err = fleetMetric(all, spoolFsyncs)
	return c, err
}

// since fills run with the counters' growth: the spools' and Redis's at
// once, ClickHouse's once it has stored every acknowledged event.
func (c *fleetCounters) since(run *fleetRun, b *fleetBackend, all []*proxyProc) error {
	fsyncs, err := fleetMetric(all, spoolFsyncs)
	if err != nil {
		return err
	}
	run.fsyncs = fsyncs - c.fsyncs
	redisEnd, err := readRedisNodes(b.redisNodes, false)
	if err != nil {
		return err
	}
	run.redis = redisNodesSince(c.redis, redisEnd)
	if err := awaitFleetStored(b, all); err != nil {
		return err
	}
	if run.shards, err = c.ch.since(); err != nil {
		return err
	}
	batches, err := fleetMetric(all, insertBatches)
	run.batches = batches - c.batches
	return err
}

// fleetCPU starts measuring every server and every proxy of all; those
// past the first loaded take no load in this run.
func fleetCPU(b *fleetBackend, all []*proxyProc, loaded int) *cpuMeter {
	names, pids := b.processes()
	for i, p := range all {
		name := fmt.Sprintf("proxy %d", i+1)
		if i >= loaded {
			name += " (idle)"
		}
		names, pids = append(names, name), append(pids, p.pid)
	}
	return newCPUMeter(names, pids)
}

// The proxies' counters the scenario sums over the fleet.
const (
	insertBatches = "hogsend_clickhouse_insert_batches_total"
	spoolFsyncs   = "hogsend_spool_fsyncs_total"
)

// fleetMetric is the sum of counter name over the proxies of fleet.
func fleetMetric(fleet []*proxyProc, name string) (int64, error) {
	var total int64
	for _, p := range fleet {
		n, err := metricValue(p.base, name)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// awaitFleetStored waits until user_events holds every event the proxies
// acknowledged, each once.
func awaitFleetStored(b *fleetBackend, fleet []*proxyProc) error {
	var acked int64
	for _, p := range fleet {
		n, err := acceptedEvents(p.base, "native")
		if err != nil {
			return err
		}
		acked += n
	}
	rows, err := countEvents(b.chURL, acked, 180*time.Second)
	if err != nil {
		return err
	}
	if rows != acked {
		return fmt.Errorf("rows in user_events (%d) != acknowledged by the fleet (%d)", rows, acked)
	}
	return nil
}

// driveFleet runs one wrk per proxy at once and merges their results: the
// events add up, the slowest run's latency stands for the fleet's.
func driveFleet(env *benchEnv, fleet []*proxyProc, key string, d time.Duration, conns, contacts int) (*loadResult, error) {
	results := make([]*loadResult, len(fleet))
	errs := make([]error, len(fleet))
	var wg sync.WaitGroup
	run := time.Now().UnixNano()
	for i, p := range fleet {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &eventLoad{addr: p.addr, key: key, conns: max(1, conns/len(fleet)), contacts: contacts}
			results[i], errs[i] = runFleetWrk(l, fmt.Sprintf("fleet-%d-%d", run, i), d, env.TempDir())
		}()
	}
	wg.Wait()
	merged := &loadResult{}
	for i, r := range results {
		if errs[i] != nil {
			return nil, errs[i]
		}
		merged.acked += r.acked
		merged.errors += r.errors
		merged.elapsed = max(merged.elapsed, r.elapsed)
		if r.p(0.99) > merged.p(0.99) {
			merged.latencies, merged.pct = r.latencies, r.pct
		}
	}
	return merged, nil
}
