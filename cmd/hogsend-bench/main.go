// Command hogsend-bench is the whole-process load benchmark behind `make bench`.
// It starts its own redis-server and clickhouse-server on loopback, runs the
// hogsend-proxy binary against them, drives POST /v1/events (one event per
// request, unique emails drawn from a pool of contacts) over keep-alive
// connections for a fixed duration, waits until ClickHouse has every
// acknowledged event, and prints throughput, latency and the row count.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

func main() {
	duration := flag.Duration("duration", 20*time.Second, "how long to drive load")
	conns := flag.Int("conns", 64, "keep-alive connections (one in-flight request each)")
	contacts := flag.Int("contacts", 100000, "distinct contacts the emails are drawn from")
	knownPeople := flag.Bool("known-people", true, "events, batch, batch-server and fleet scenarios: send every contact's (visitor's) first event before the warm-up (the fleet: through every proxy), so that the measured load is of known people (steady state)")
	warmup := flag.Duration("warmup", 3*time.Second, "load before measuring (creates contacts, warms caches)")
	generator := flag.String("generator", "wrk", "load generator: wrk (C, light on CPU; falls back to go when missing) or go")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the proxy during the measured phase to this file")
	scenario := flag.String("scenario", "all", "events (POST /v1/events), batch (PostHog /batch/ gzip, 50 events of one person a request), batch-server (50 events of 50 people a request): each -runs times in each -mode, as ratios to a bare handler, with p99 at half the peak rate and the proxy's peak RSS; conversions (delivery to a fake ad platform), handoff (ingest with the hand-off to a fake engine on vs off, and an engine outage), mirror (/batch/ ingest with the mirror to a fake PostHog on vs off, and a PostHog outage), fleet (native load on one proxy, then on three sharing a Redis Cluster and a sharded ClickHouse, see -fleet-on), hostile (batch load beside each attack of internal/abuse) or all")
	serveBareOn := flag.String("serve-bare", "", "serve the bare reference handler on this address and nothing else (the bench starts itself so)")
	hostilePhase := flag.Duration("hostile-phase", 10*time.Second, "length of each phase of the hostile scenario (baseline, then one per attack group)")
	hostileOnly := flag.String("hostile-groups", "", "comma-separated attack groups the hostile scenario runs (empty: all)")
	hostileMaxRSS := flag.Int64("hostile-max-rss", 4<<30, "stop the hostile scenario when the proxy's RSS passes this many bytes (protects the machine from a proxy that does not bound its memory)")
	conversionsN := flag.Int("conversions", 20000, "conversions queued in the conversions scenario")
	outage := flag.Duration("outage", 60*time.Second, "platform outage of the conversions scenario")
	batchConns := flag.Int("batch-conns", 32, "connections of the batch scenario")
	handOffOutage := flag.Duration("handoff-outage", 60*time.Second, "engine outage of the handoff scenario (0: compare only)")
	handOffRate := flag.Int("handoff-rate", 2000, "events a second of the steady load during the handoff scenario's engine outage")
	mirrorOutage := flag.Duration("mirror-outage", 60*time.Second, "PostHog outage of the mirror scenario")
	mirrorRate := flag.Int("mirror-rate", 2000, "events a second of the steady /batch/ load during the mirror scenario's PostHog outage")
	handOffTraffic := flag.String("handoff-traffic", "both", "traffic of the handoff scenario's on/off comparison: native (POST /v1/events), batch (identified /batch/) or both")
	deliveryRounds := flag.Int("delivery-rounds", 3, "off/on rounds of the handoff and mirror scenarios' comparison (the median ratio is their result)")
	fleetOn := flag.String("fleet-on", "cluster", "what the fleet scenario's proxies share: cluster (a 3-master Redis Cluster, ZooKeeper and a 2-shard ClickHouse) or single (one redis-server and one clickhouse-server)")
	fleetRedisReplicas := flag.Int("fleet-redis-replicas", 0, "replicas per Redis master of the fleet scenario's cluster")
	fleetCHReplicas := flag.Int("fleet-clickhouse-replicas", 1, "replicas per ClickHouse shard of the fleet scenario's cluster")
	fleetBatchDelay := flag.Duration("fleet-batch-delay", 0, "HOGSEND_CLICKHOUSE_BATCH_DELAY of the fleet scenario's proxies (0: the proxy's default)")
	batchConversions := flag.Bool("batch-conversions", false, "run the batch scenario with conversion forwarding configured")
	runs := flag.Int("runs", 3, "events, batch and batch-server: runs of each, every one on a fresh stack with the bare handler measured beside it (the summary gives the median and every run)")
	mode := flag.String("mode", "server", "events, batch and batch-server: server (Redis and ClickHouse), embedded (in-process identity and chDB; needs CHDB_LIB_PATH) or both")
	rssRate := flag.Int("rss-rate", 20000, "events scenario: events/s of POST /v1/events paced on a server-mode proxy whose peak RSS is printed (0 skips it)")
	flag.StringVar(&proxyBinary, "proxy-bin", "", "run this hogsend-proxy binary instead of building one from the working tree (A/B comparisons)")
	flag.Parse()
	if *serveBareOn != "" {
		if err := serveBare(*serveBareOn); err != nil {
			fmt.Fprintln(os.Stderr, "hogsend-bench -serve-bare:", err)
			os.Exit(1)
		}
		return
	}

	modes, err := parseModes(*mode)
	if err == nil && *runs < 1 {
		err = fmt.Errorf("-runs %d: want at least 1", *runs)
	}
	if err == nil {
		err = runEdge(perfOptions{duration: *duration, warmup: *warmup, conns: *conns, batchConns: *batchConns, contacts: *contacts,
			cpuProfile: *cpuProfile, generator: resolveGenerator(*generator), knownPeople: *knownPeople,
			batchConversions: *batchConversions, runs: *runs, rssRate: *rssRate, modes: modes}, *scenario)
	}
	if err == nil && (*scenario == "conversions" || *scenario == "all") {
		err = runConversions(newEnv(), *conversionsN, *outage)
	}
	delivery := deliveryOptions{duration: *duration, warmup: *warmup, conns: *conns, batchConns: *batchConns,
		contacts: *contacts, generator: *generator, cpuProfile: *cpuProfile, rounds: *deliveryRounds,
		traffic: *handOffTraffic}
	if err == nil && (*scenario == "handoff" || *scenario == "all") {
		o := delivery
		o.outage, o.outageRate = *handOffOutage, *handOffRate
		err = runHandOff(o)
	}
	if err == nil && (*scenario == "mirror" || *scenario == "all") {
		o := delivery
		o.outage, o.outageRate = *mirrorOutage, *mirrorRate
		err = runMirror(o)
	}
	if err == nil && (*scenario == "fleet" || *scenario == "all") {
		fleet := fleetOptions{on: *fleetOn, redisReplicas: *fleetRedisReplicas, chReplicas: *fleetCHReplicas, batchDelay: *fleetBatchDelay, knownPeople: *knownPeople}
		err = runFleet(newEnv(), fleet, *duration, *warmup, *conns, *contacts)
	}
	if err == nil && (*scenario == "hostile" || *scenario == "all") {
		err = runHostile(newEnv(), *hostilePhase, *hostileMaxRSS, *hostileOnly, *batchConns, *contacts, *cpuProfile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hogsend-bench:", err)
		os.Exit(1)
	}
}

// run is the events scenario on a fresh stack in mode: the bare handler,
// then the proxy at full speed, then at half the rate it reached.
func run(env *benchEnv, o perfOptions, mode stackMode, sc edgeScenario) (*perfRun, error) {
	fmt.Printf("bare handler first: warm-up %s, then %s of the same load\n", o.warmup, o.duration)
	ref, err := measureBare(env, o.warmup, o.duration, func(addr string, d time.Duration) (*loadResult, error) {
		return eventDriver(env, &eventLoad{addr: addr, key: "bare", conns: o.conns, contacts: o.contacts}, o.generator)(d)
	})
	if err != nil {
		return nil, err
	}
	st, err := startModeStack(env, mode, o.cpuProfile != "")
	if err != nil {
		return nil, err
	}
	load, err := newPerfEventLoad(st, o)
	if err != nil {
		return nil, err
	}
	fmt.Printf("warm-up %s, then %s of POST /v1/events over %d connections, emails from %d contacts, generator %s\n", o.warmup, o.duration, o.conns, o.contacts, o.generator)
	drive := eventDriver(env, load, o.generator)
	if o.warmup > 0 {
		if _, err := drive(o.warmup); err != nil {
			return nil, err
		}
	}
	profileDone := make(chan error, 1)
	if o.cpuProfile != "" {
		go func() { profileDone <- fetchProfile(st.pprofAddr, o.duration, o.cpuProfile) }()
	} else {
		profileDone <- nil
	}
	m := startMeasuring(st)
	res, err := drive(o.duration)
	if err != nil {
		return nil, err
	}
	got := m.done(res.acked, res.elapsed)
	if err := <-profileDone; err != nil {
		return nil, err
	}
	// The server's own count of 202s is the acknowledged total: a client
	// stopping at the deadline drops answers to requests already in flight.
	serverAcked, err := acceptedEvents(st.base, "native")
	if err != nil {
		return nil, err
	}
	start := time.Now()
	stored, err := st.stored(serverAcked)
	if err != nil {
		return nil, err
	}
	fmt.Println()
	fmt.Println("POST /v1/events, one event per request, durable acknowledgement (fsync) before 202")
	fmt.Printf("  acknowledged:     %d events in %.1fs = %.0f events/s\n", res.acked, res.elapsed.Seconds(), float64(res.acked)/res.elapsed.Seconds())
	fmt.Printf("  latency:          p50 %s  p90 %s  p99 %s\n", res.p(0.50), res.p(0.90), res.p(0.99))
	fmt.Printf("  errors:           %d (non-202 answers or transport errors) %s\n", res.errors, strings.Join(res.firstErrors, "; "))
	fmt.Print(got.report)
	drain := time.Since(start)
	fmt.Printf("  stored:           %s; server-acknowledged 202s incl. warm-up: %d; drained %.1fs after the load stopped\n", stored, serverAcked, drain.Seconds())
	printTouches(st.base)
	printRatio(ref, res, got)
	rate := int(halfPeakRate(res, drain))
	half := measureHalfPeak(st, "POST /v1/events", rate, func() *loadResult { return paceEvents(load, rate, o.duration) })
	return finishRun(ref, res, got, half, o.duration, sc.halfGoal), nil
}

// benchEnv satisfies testenv.TB outside a test binary.
type benchEnv struct {
	dirs     []string
	cleanups []func()
	closed   bool
	// proxyOutput takes the proxy's stdout and stderr; nil is the bench's.
	proxyOutput io.Writer
	// built is the proxy binary built from the working tree, once.
	built string
}

func newEnv() *benchEnv { return &benchEnv{} }

func (e *benchEnv) Helper() {}
func (e *benchEnv) Fatal(args ...any) {
	fmt.Fprintln(os.Stderr, append([]any{"hogsend-bench:"}, args...)...)
	e.close()
	os.Exit(1)
}
func (e *benchEnv) Fatalf(format string, args ...any) { e.Fatal(fmt.Sprintf(format, args...)) }
func (e *benchEnv) Skipf(format string, args ...any)  { e.Fatal(fmt.Sprintf(format, args...)) }
func (e *benchEnv) Cleanup(f func())                  { e.cleanups = append(e.cleanups, f) }
func (e *benchEnv) TempDir() string {
	d, err := os.MkdirTemp("", "hogsend-bench-*")
	if err != nil {
		e.Fatalf("temp dir: %v", err)
	}
	e.dirs = append(e.dirs, d)
	return d
}

func (e *benchEnv) close() {
	if e.closed {
		return
	}
	e.closed = true
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
	for _, d := range e.dirs {
		if strings.HasPrefix(d, os.TempDir()) {
			os.RemoveAll(d)
		}
	}
}

var _ testenv.TB = (*benchEnv)(nil)

func countEvents(url string, want int64, timeout time.Duration) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout+10*time.Second)
	defer cancel()
	return waitRows(ctx, url, "1", want, timeout)
}

// fetchProfile saves a CPU profile of the proxy over about d to path.
func fetchProfile(addr string, d time.Duration, path string) error {
	secs := max(int(d.Seconds())-1, 1)
	return savePprof(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs), path)
}

// savePprof saves what a pprof URL of the proxy answers to path.
func savePprof(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return fmt.Errorf("profile %s: %w", url, err)
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("profile %s: %w", url, err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		return fmt.Errorf("profile %s: %w", url, err)
	}
	return nil
}

// stack is a running Redis + ClickHouse + hogsend-proxy for one scenario.
type stack struct {
	addr, base, pprofAddr string
	ch, redis             *testenv.Process
	proxyPID              int
}

// cpu starts measuring the CPU of the proxy, Redis and ClickHouse.
func (st *stack) cpu() *cpuMeter {
	return newCPUMeter([]string{"proxy", "redis", "clickhouse"}, []int{st.proxyPID, st.redis.PID(), st.ch.PID()})
}

// proxyBinary is the -proxy-bin flag: a prebuilt binary to measure.
var proxyBinary string

func startStack(env *benchEnv, withPprof bool, extraEnv ...string) (*stack, error) {
	fmt.Println("starting redis-server and clickhouse-server on loopback …")
	redis := testenv.Redis(env)
	ch := testenv.ClickHouse(env)
	p, err := startProxy(env, redis.RedisURL(), ch.ClickHouseURL("hogsend"), withPprof, extraEnv...)
	if err != nil {
		return nil, err
	}
	return &stack{addr: p.addr, base: p.base, ch: ch, redis: redis, proxyPID: p.pid, pprofAddr: p.pprofAddr}, nil
}

// proxyProc is one running hogsend-proxy of a scenario.
type proxyProc struct {
	addr, base, pprofAddr string
	pid                   int
}

// startProxy starts hogsend-proxy serve on its own port and data directory
// against redisURL and chURL, and waits until it is ready.
func startProxy(env *benchEnv, redisURL, chURL string, withPprof bool, extraEnv ...string) (*proxyProc, error) {
	bin, err := benchProxyBinary(env)
	if err != nil {
		return nil, err
	}
	port := testenv.FreePort(env)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	proxy := exec.Command(bin, "serve")
	proxy.Env = append(os.Environ(),
		"HOGSEND_LISTEN="+addr,
		"HOGSEND_REDIS_URL="+redisURL,
		"HOGSEND_CLICKHOUSE_URL="+chURL,
		"HOGSEND_DATA_DIR="+filepath.Join(env.TempDir(), "data"),
		"HOGSEND_ADMIN_API_KEY=bench-admin-key",
		"HOGSEND_LOG_LEVEL=warn",
	)
	proxy.Env = append(proxy.Env, extraEnv...)
	pprofAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(env))
	if withPprof {
		proxy.Env = append(proxy.Env, "HOGSEND_PPROF_LISTEN="+pprofAddr)
	}
	proxy.Stdout, proxy.Stderr = os.Stdout, os.Stderr
	if env.proxyOutput != nil {
		proxy.Stdout, proxy.Stderr = env.proxyOutput, env.proxyOutput
	}
	if err := proxy.Start(); err != nil {
		return nil, fmt.Errorf("start hogsend-proxy: %w", err)
	}
	env.Cleanup(func() {
		_ = proxy.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { proxy.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			proxy.Process.Kill()
		}
	})
	base := "http://" + addr
	if err := waitReady(base, 60*time.Second); err != nil {
		return nil, err
	}
	return &proxyProc{addr: addr, base: base, pprofAddr: pprofAddr, pid: proxy.Process.Pid}, nil
}

// benchProxyBinary is -proxy-bin, else a build of the working tree (once
// per environment).
func benchProxyBinary(env *benchEnv) (string, error) {
	if proxyBinary != "" {
		return proxyBinary, nil
	}
	if env.built != "" {
		return env.built, nil
	}
	bin := filepath.Join(env.TempDir(), "hogsend-proxy")
	build := exec.Command("go", "build", "-o", bin, "./cmd/hogsend-proxy")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build hogsend-proxy: %w", err)
	}
	env.built = bin
	return bin, nil
}

// runBatch is the PostHog scenario on a fresh stack in mode: gzip /batch/
// bodies of 50 posthog-js-shaped events, every uuid sent once; the bare
// handler, then the proxy at full speed, then at half the rate it reached.
func runBatch(env *benchEnv, o perfOptions, mode stackMode, sc edgeScenario, bodies [][]byte) (*perfRun, error) {
	fmt.Printf("bare handler first: warm-up %s, then %s of the same load\n", o.warmup, o.duration)
	ref, err := measureBare(env, o.warmup, o.duration, func(addr string, d time.Duration) (*loadResult, error) {
		l := &batchLoad{addr: addr, conns: o.batchConns, bodies: bodies, events: batchPerBody, wrap: true, progress: bareRequestsMetric}
		return batchDriver(env, l, new(atomic.Int64), o.generator)(d, func(time.Duration) error { return nil })
	})
	if err != nil {
		return nil, err
	}
	extraEnv, err := batchConversionsEnv(env, o.batchConversions)
	if err != nil {
		return nil, err
	}
	st, err := startModeStack(env, mode, o.cpuProfile != "", extraEnv...)
	if err != nil {
		return nil, err
	}
	if o.knownPeople {
		n, took, err := introduceVisitors(st.addr, o.batchConns, o.contacts, sc.shape)
		if err != nil {
			return nil, err
		}
		fmt.Printf("  known people:     every visitor's first event sent first (%d with a person, in %.1fs)\n", n, took.Seconds())
	}
	fmt.Printf("warm-up %s, then %s of POST /batch/ over %d connections (text/plain gzip), generator %s\n", o.warmup, o.duration, o.batchConns, o.generator)
	load := &batchLoad{addr: st.addr, conns: o.batchConns, bodies: bodies, events: batchPerBody}
	var next atomic.Int64
	drive := batchDriver(env, load, &next, o.generator)
	if o.warmup > 0 {
		// Connection buffers, caches, Redis's and Go's heaps, ClickHouse's
		// first parts: measured from steady state on, like the events scenario.
		if _, err := drive(o.warmup, func(time.Duration) error { return nil }); err != nil {
			return nil, err
		}
	}
	var (
		m     *measuring
		stats *batchStats
	)
	res, err := drive(o.duration, func(generatorSetup time.Duration) error {
		if o.cpuProfile != "" {
			go func() { fetchProfile(st.pprofAddr, min(o.duration, 10*time.Second), o.cpuProfile+".batch") }()
		}
		m = startMeasuring(st)
		// wrk's CPU is counted when it exits, loading of the bodies included;
		// that part happened before the load.
		m.meter.self -= generatorSetup
		var err error
		stats, err = startBatchStats(st)
		return err
	})
	if err != nil {
		return nil, err
	}
	// CPU over the load alone, as in the events scenario: read before the
	// queries and the wait for ClickHouse below.
	got := m.done(res.acked, res.elapsed)
	statsReport := stats.report(st, res.acked, res.elapsed)
	acked, err := acceptedEvents(st.base, "posthog")
	if err != nil {
		return nil, err
	}
	start := time.Now()
	stored, err := st.stored(acked)
	if err != nil {
		return nil, err
	}
	fmt.Println()
	fmt.Printf("POST /batch/ (PostHog), %s per gzip request, durable acknowledgement before 200\n", sc.shape)
	if int(next.Load()) >= len(bodies) {
		fmt.Printf("  (all %d prepared bodies were sent before the deadline)\n", len(bodies))
	}
	fmt.Printf("  acknowledged:     %d events in %.1fs = %.0f events/s (%.0f requests/s)\n", res.acked, res.elapsed.Seconds(),
		float64(res.acked)/res.elapsed.Seconds(), float64(res.acked)/batchPerBody/res.elapsed.Seconds())
	fmt.Printf("  latency:          p50 %s  p90 %s  p99 %s\n", res.p(0.50), res.p(0.90), res.p(0.99))
	fmt.Printf("  errors:           %d %s\n", res.errors, strings.Join(res.firstErrors, "; "))
	if res.errors > 0 {
		fmt.Printf("  proxy refused:    %s\n", refusedAnswers(st.base))
	}
	fmt.Print(got.report)
	fmt.Print(statsReport)
	drain := time.Since(start)
	fmt.Printf("  stored:           %s; server-acknowledged: %d (warm-up included); drained %.1fs after the load stopped\n", stored, acked, drain.Seconds())
	printRatio(ref, res, got)
	rate := halfPeakRate(res, drain)
	requests := max(1, int(rate/batchPerBody))
	paced := enoughBodies(bodies, int(next.Load()), requests, o.duration, sc.shape, batchPerBody, o.contacts)
	half := measureHalfPeak(st, "posthog capture", requests*batchPerBody, func() *loadResult { return paceBatch(load, paced, requests, o.duration) })
	return finishRun(ref, res, got, half, o.duration, sc.halfGoal), nil
}
