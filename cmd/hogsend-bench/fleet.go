package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// The fleet scenario (docs/operations.md § Several proxies): the same
// native load on one proxy, then spread over three sharing its Redis and
// ClickHouse. On one machine three proxies are not faster; what it shows is
// whether anything per instance grows with their number: Redis commands and
// bytes per event, ClickHouse inserts per event.

// fleetSize is the number of proxies of the second run.
const fleetSize = 3

// fleetRun is one measured run of the scenario.
type fleetRun struct {
	proxies            int
	acked              int64
	elapsed            time.Duration
	p50, p99           time.Duration
	errors             int
	redisCalls         int64
	redisIn, redisOut  int64
	inserts, insertRow int64
	cpu                string
}

func runFleet(env *benchEnv, duration, warmup time.Duration, conns, contacts int) error {
	defer env.close()
	if err := requireWrk(); err != nil {
		return err
	}
	st, err := startStack(env, false)
	if err != nil {
		return err
	}
	key, err := mintKey(st.base, "bench-admin-key")
	if err != nil {
		return err
	}
	fleet := []*proxyProc{{addr: st.addr, base: st.base, pid: st.proxyPID}}
	fmt.Printf("fleet: warm-up %s, then %s of POST /v1/events over %d connections, on 1 proxy, then on %d sharing its Redis and ClickHouse\n", warmup, duration, conns, fleetSize)
	one, err := measureFleet(env, st, fleet, key, duration, warmup, conns, contacts)
	if err != nil {
		return err
	}
	for len(fleet) < fleetSize {
		p, err := startProxy(env, st.redis.RedisURL(), st.ch.ClickHouseURL("hogsend"), false)
		if err != nil {
			return err
		}
		fleet = append(fleet, p)
	}
	many, err := measureFleet(env, st, fleet, key, duration, warmup, conns, contacts)
	if err != nil {
		return err
	}
	printFleet(one, many)
	return nil
}

func requireWrk() error {
	o := deliveryOptions{generator: "wrk"}
	o.useGenerator()
	if o.generator != "wrk" {
		return fmt.Errorf("the fleet scenario drives each proxy with its own wrk; install wrk")
	}
	return nil
}

// measureFleet drives the load over fleet, conns split evenly, one wrk per
// proxy (a round-robin balancer's share), and reads what Redis and
// ClickHouse did for it.
func measureFleet(env *benchEnv, st *stack, fleet []*proxyProc, key string, duration, warmup time.Duration, conns, contacts int) (*fleetRun, error) {
	if _, err := driveFleet(env, fleet, key, warmup, conns, contacts); err != nil {
		return nil, err
	}
	rc, err := redisCounters(st.redis.RedisURL(), true)
	if err != nil {
		return nil, err
	}
	ch, err := newCHStats(st.ch.ClickHouseURL("hogsend"))
	if err != nil {
		return nil, err
	}
	names, pids := []string{"redis", "clickhouse"}, []int{st.redis.PID(), st.ch.PID()}
	for i, p := range fleet {
		names, pids = append(names, fmt.Sprintf("proxy %d", i+1)), append(pids, p.pid)
	}
	meter := newCPUMeter(names, pids)
	res, err := driveFleet(env, fleet, key, duration, conns, contacts)
	if err != nil {
		return nil, err
	}
	run := &fleetRun{proxies: len(fleet), acked: res.acked, elapsed: res.elapsed, p50: res.p(0.5), p99: res.p(0.99), errors: int(res.errors)}
	run.cpu = meter.report(res.acked, res.elapsed)
	end, err := redisCounters(st.redis.RedisURL(), false)
	if err != nil {
		return nil, err
	}
	run.redisCalls, run.redisIn, run.redisOut = end.calls-rc.calls, end.in-rc.in, end.out-rc.out
	after, err := ch.read()
	if err != nil {
		return nil, err
	}
	run.inserts, run.insertRow = after["InsertQuery"]-ch.start["InsertQuery"], after["InsertedRows"]-ch.start["InsertedRows"]
	return run, nil
}

// driveFleet runs one wrk per proxy at once and merges their results: the
// events add up, the slowest run's latency stands for the fleet's.
func driveFleet(env *benchEnv, fleet []*proxyProc, key string, d time.Duration, conns, contacts int) (*loadResult, error) {
	results := make([]*loadResult, len(fleet))
	errs := make([]error, len(fleet))
	var wg sync.WaitGroup
	for i, p := range fleet {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &eventLoad{addr: p.addr, key: key, conns: max(1, conns/len(fleet)), contacts: contacts}
			results[i], errs[i] = l.runWrk(d, env.TempDir())
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

// redisTotals are Redis's command calls and network bytes since its last
// stats reset.
type redisTotals struct{ calls, in, out int64 }

func redisCounters(url string, reset bool) (redisTotals, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return redisTotals{}, err
	}
	c := redis.NewClient(o)
	defer c.Close()
	ctx := context.Background()
	if reset {
		if err := c.ConfigResetStat(ctx).Err(); err != nil {
			return redisTotals{}, fmt.Errorf("redis config resetstat: %w", err)
		}
	}
	info, err := c.Info(ctx, "commandstats", "stats").Result()
	if err != nil {
		return redisTotals{}, fmt.Errorf("redis info: %w", err)
	}
	var t redisTotals
	for _, st := range testenv.ParseRedisCommandStats(info) {
		t.calls += st.Calls
	}
	for _, line := range strings.Split(info, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "total_net_input_bytes":
			t.in = n
		case "total_net_output_bytes":
			t.out = n
		}
	}
	return t, nil
}

func printFleet(runs ...*fleetRun) {
	base := float64(runs[0].acked) / runs[0].elapsed.Seconds()
	for _, r := range runs {
		n := float64(max(r.acked, 1))
		rate := float64(r.acked) / r.elapsed.Seconds()
		fmt.Printf("\nfleet of %d proxies on one Redis and one ClickHouse\n", r.proxies)
		fmt.Printf("  acknowledged:     %.0f events/s (%.2f of one proxy's), p50 %s p99 %s, errors %d\n", rate, rate/base, r.p50, r.p99, r.errors)
		fmt.Print(r.cpu)
		fmt.Printf("  redis:            %.2f commands, %.0f bytes in and %.0f out per event\n", float64(r.redisCalls)/n, float64(r.redisIn)/n, float64(r.redisOut)/n)
		fmt.Printf("  clickhouse:       %.2f inserts per 1000 events, %.0f rows per insert\n", 1000*float64(r.inserts)/n, float64(r.insertRow)/float64(max(r.inserts, 1)))
	}
}
