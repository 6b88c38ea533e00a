package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeengine"
)

// The hand-off scenario (docs/upstream.md § 3): ingest with the hand-off to
// a Hogsend engine on, as a ratio of the same load with it off, measured
// back to back; the hand-off's delivery rate while ingest runs; and the
// drain of the backlog an engine outage leaves.

// handOffOptions are the flags the hand-off scenario uses.
type handOffOptions struct {
	duration, warmup, outage time.Duration
	conns, batchConns        int
	contacts, outageRate     int
	generator, cpuProfile    string
}

// engineLatency is how long the fake engine takes to answer each request.
const engineLatency = time.Millisecond

// trafficKind is one kind of ingest traffic the hand-off is measured under.
type trafficKind struct {
	name string // as printed
	api  string // the label of hogsend_events_accepted_total
	// newDriver returns the load against addr with key; each call starts
	// from the same first request, so that the runs are driven alike.
	newDriver func(env *benchEnv, addr, key string) loadDriver
	// bare drives the same load against the bare handler for d.
	bare func(env *benchEnv, addr string, d time.Duration) (*loadResult, error)
}

// loadDriver drives the load for d, calling started once it has begun
// (wrk loads the batch bodies first) with the CPU the generator spent
// getting ready.
type loadDriver func(d time.Duration, started func(generatorSetup time.Duration)) (*loadResult, error)

// runHandOff compares ingest with the hand-off on and off under native and
// /batch/ traffic, then measures an engine outage's drain.
func runHandOff(o handOffOptions) error {
	if o.generator == "wrk" {
		if _, err := exec.LookPath("wrk"); err != nil {
			fmt.Println("wrk not found; using the Go generator")
			o.generator = "go"
		}
	}
	for _, kind := range []trafficKind{nativeKind(o), batchKind(o)} {
		if err := compareHandOff(o, kind); err != nil {
			return fmt.Errorf("hand-off, %s: %w", kind.name, err)
		}
	}
	return runHandOffOutage(o)
}

// nativeKind is POST /v1/events, one event with an email per request.
func nativeKind(o handOffOptions) trafficKind {
	drive := func(env *benchEnv, addr, key string) loadDriver {
		l := &eventLoad{addr: addr, key: key, conns: o.conns, contacts: o.contacts}
		dir := env.TempDir()
		return func(d time.Duration, started func(time.Duration)) (*loadResult, error) {
			started(0)
			if o.generator == "wrk" {
				return l.runWrk(d, dir)
			}
			return l.run(d)
		}
	}
	return trafficKind{name: "POST /v1/events", api: "native", newDriver: drive,
		bare: func(env *benchEnv, addr string, d time.Duration) (*loadResult, error) {
			return drive(env, addr, "bare")(d, func(time.Duration) {})
		}}
}

// batchKind is POST /batch/ of identified persons; the bodies are built
// once, and each run sends them from the first.
func batchKind(o handOffOptions) trafficKind {
	const perBody = 50
	n := max(15000, int((o.warmup+o.duration).Seconds()*150000/perBody))
	var bodies [][]byte
	load := func(addr string, wrap bool) *batchLoad {
		if bodies == nil {
			fmt.Printf("building %d gzip /batch/ bodies: %s …\n", n, identifiedShape)
			bodies = buildIdentifiedBodies(n, perBody, o.contacts)
		}
		l := &batchLoad{addr: addr, conns: o.batchConns, bodies: bodies, events: perBody, wrap: wrap}
		if wrap {
			l.progress = bareRequestsMetric
		}
		return l
	}
	drive := func(env *benchEnv, l *batchLoad, next *atomic.Int64, d time.Duration, started func(time.Duration)) (*loadResult, error) {
		if o.generator != "wrk" {
			started(0)
			return l.run(d, next)
		}
		res, sent, err := l.runWrk(d, env.TempDir(), int(next.Load()), func(setup time.Duration) error {
			started(setup)
			return nil
		})
		next.Add(int64(sent))
		return res, err
	}
	return trafficKind{name: "POST /batch/ (" + identifiedShape + ")", api: "posthog",
		newDriver: func(env *benchEnv, addr, _ string) loadDriver {
			l, next := load(addr, false), new(atomic.Int64)
			return func(d time.Duration, started func(time.Duration)) (*loadResult, error) {
				return drive(env, l, next, d, started)
			}
		},
		// The bare handler stores nothing: it is sent the bodies again
		// once all were.
		bare: func(env *benchEnv, addr string, d time.Duration) (*loadResult, error) {
			return drive(env, load(addr, true), new(atomic.Int64), d, func(time.Duration) {})
		}}
}

// compareHandOff measures kind against the bare handler, then with the
// hand-off off and on, each on a fresh stack, and prints the comparison.
func compareHandOff(o handOffOptions, kind trafficKind) error {
	fmt.Printf("\nhand-off, %s: bare handler, then the proxy without and with the hand-off (fake engine answering in %s); warm-up %s, then %s each\n",
		kind.name, engineLatency, o.warmup, o.duration)
	env := newEnv()
	ref, err := measureBare(env, o.warmup, o.duration, func(addr string, d time.Duration) (*loadResult, error) {
		return kind.bare(env, addr, d)
	})
	env.close()
	if err != nil {
		return err
	}
	off, err := measureHandOffRun(o, kind, false)
	if err != nil {
		return err
	}
	on, err := measureHandOffRun(o, kind, true)
	if err != nil {
		return err
	}
	printHandOffComparison(kind, ref, off, on)
	if on.deliveredEnd != on.accepted {
		return fmt.Errorf("hogsend_handoff_delivered_total %d != events accepted %d", on.deliveredEnd, on.accepted)
	}
	return nil
}

// handOffRun is what one run of a kind measured.
type handOffRun struct {
	res        *loadResult
	cpu        string        // the stack's CPU report over the measured phase
	proxyCPU   time.Duration // the proxy's CPU over it
	benchCPU   time.Duration // this process's: the fake engine's, with the hand-off on
	accepted   int64         // events the proxy stored, warm-up included
	handedOff  bool
	delivered0 int64 // hogsend_handoff_delivered_total when the measured phase began
	delivered1 int64 // … when it ended
	lagAtEnd   int64 // events accepted and not yet delivered when the load stopped
	drain      time.Duration
	// deliveredEnd is hogsend_handoff_delivered_total once drained.
	deliveredEnd int64
}

// measureHandOffRun runs kind on a fresh stack, with the hand-off to a
// fresh fake engine when handOff.
func measureHandOffRun(o handOffOptions, kind trafficKind, handOff bool) (*handOffRun, error) {
	env := newEnv()
	defer env.close()
	var extraEnv []string
	var eng *fakeengine.Server
	if handOff {
		var err error
		if eng, err = fakeengine.New(fakeengine.Options{NoRequestLog: true}); err != nil {
			return nil, err
		}
		defer eng.Close()
		eng.Script.SetLatency(engineLatency)
		extraEnv = append(extraEnv, "HOGSEND_UPSTREAM_URL="+eng.URL(), "HOGSEND_UPSTREAM_API_KEY="+eng.MintKey("ingest"))
	}
	st, err := startStack(env, o.cpuProfile != "", extraEnv...)
	if err != nil {
		return nil, err
	}
	key, err := mintKey(st.base, "bench-admin-key")
	if err != nil {
		return nil, err
	}
	drive := kind.newDriver(env, st.addr, key)
	if o.warmup > 0 {
		if _, err := drive(o.warmup, func(time.Duration) {}); err != nil {
			return nil, err
		}
	}
	run, err := measuredPhase(o, kind, st, drive, handOff)
	if err != nil {
		return nil, err
	}
	if run.accepted, err = acceptedEvents(st.base, kind.api); err != nil {
		return nil, err
	}
	if handOff {
		return run, awaitHandOff(st.base, run, 10*time.Minute)
	}
	return run, nil
}

// measuredPhase drives the measured load and reads the CPU and the
// hand-off's progress around it.
func measuredPhase(o handOffOptions, kind trafficKind, st *stack, drive loadDriver, handOff bool) (*handOffRun, error) {
	run := &handOffRun{handedOff: handOff}
	var meter *cpuMeter
	var proxy0, bench0 time.Duration
	stopProfile := func() {}
	res, err := drive(o.duration, func(generatorSetup time.Duration) {
		if o.cpuProfile != "" {
			stopProfile = profileRun(o, kind, st, handOff)
		}
		meter = st.cpu()
		meter.self -= generatorSetup
		proxy0, _ = processCPU(st.proxyPID)
		bench0 = benchCPU()
		if handOff {
			run.delivered0, _ = metricValue(st.base, "hogsend_handoff_delivered_total")
		}
	})
	if err != nil {
		return nil, err
	}
	stopProfile()
	run.res = res
	run.cpu = meter.report(res.acked, res.elapsed)
	proxy1, _ := processCPU(st.proxyPID)
	run.proxyCPU, run.benchCPU = proxy1-proxy0, benchCPU()-bench0
	if handOff {
		run.delivered1, _ = metricValue(st.base, "hogsend_handoff_delivered_total")
	}
	return run, nil
}

// profileRun profiles the proxy (and, with the hand-off on, this process:
// the fake engine) during a measured phase; the returned func stops it.
func profileRun(o handOffOptions, kind trafficKind, st *stack, handOff bool) func() {
	tag := fmt.Sprintf(".handoff-%s-%s", kind.api, map[bool]string{true: "on", false: "off"}[handOff])
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := fetchProfile(st.pprofAddr, o.duration, o.cpuProfile+tag); err != nil {
			fmt.Fprintln(os.Stderr, "hogsend-bench:", err)
		}
	}()
	var f *os.File
	if handOff {
		f, _ = os.Create(o.cpuProfile + tag + "-bench")
		if f != nil && pprof.StartCPUProfile(f) != nil {
			f.Close()
			f = nil
		}
	}
	return func() {
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
		}
		<-done
	}
}

// awaitHandOff waits until the hand-off has delivered every accepted event
// (or timeout passes), recording the lag when the load stopped and the
// time the rest took.
func awaitHandOff(base string, run *handOffRun, timeout time.Duration) error {
	delivered, err := metricValue(base, "hogsend_handoff_delivered_total")
	if err != nil {
		return err
	}
	run.lagAtEnd = run.accepted - delivered
	start := time.Now()
	err = waitMetric(base, "hogsend_handoff_delivered_total", run.accepted, timeout)
	run.drain = time.Since(start)
	run.deliveredEnd, _ = metricValue(base, "hogsend_handoff_delivered_total")
	return err
}

func (r *handOffRun) rate() float64 { return float64(r.res.acked) / r.res.elapsed.Seconds() }

func (r *handOffRun) proxyPerEvent() float64 {
	return float64(r.proxyCPU.Nanoseconds()) / 1000 / float64(r.res.acked)
}

func printHandOffComparison(kind trafficKind, ref *reference, off, on *handOffRun) {
	fmt.Println()
	fmt.Printf("hand-off, %s\n", kind.name)
	for _, r := range []*handOffRun{off, on} {
		label := map[bool]string{false: "hand-off off", true: "hand-off on "}[r.handedOff]
		fmt.Printf("  %s:    %.0f events/s (ratio to bare %.2f), p50 %s p99 %s, errors %d %v; proxy %.2f µs CPU per event\n",
			label, r.rate(), r.rate()/ref.rate, r.res.p(0.50), r.res.p(0.99), r.res.errors, r.res.firstErrors, r.proxyPerEvent())
		fmt.Print("  " + r.cpu)
	}
	fmt.Printf("  bare handler:     %.0f events/s, p99 %s\n", ref.rate, ref.p99)
	fmt.Printf("  ratio on/off:     %.2f (goal ≥ 0.80); proxy CPU per event +%.2f µs with the hand-off\n",
		on.rate()/off.rate(), on.proxyPerEvent()-off.proxyPerEvent())
	secs := on.res.elapsed.Seconds()
	fmt.Printf("  fake engine:      %.2f µs CPU per delivered record (%.0f%% of a core; the bench process, generator included when it is Go)\n",
		float64(on.benchCPU.Nanoseconds())/1000/float64(max(1, on.delivered1-on.delivered0)), 100*on.benchCPU.Seconds()/secs)
	fmt.Printf("  delivery:         %.0f records/s while ingest ran (ingest %.0f events/s); lag when the load stopped %d records, drained %.1fs later\n",
		float64(on.delivered1-on.delivered0)/secs, on.rate(), on.lagAtEnd, on.drain.Seconds())
	kept := "kept up"
	if on.lagAtEnd > int64(on.rate()) {
		kept = "fell behind (lag over a second of ingest)"
	}
	fmt.Printf("  hand-off:         %s; delivered %d of %d accepted events (warm-up included)\n", kept, on.deliveredEnd, on.accepted)
}
