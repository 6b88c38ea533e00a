package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime/pprof"
	"sync/atomic"
	"time"
)

// The delivery scenarios: the hand-off to a Hogsend engine
// (docs/upstream.md § 3) and the mirror to PostHog
// (docs/posthog-upstream.md § 1). Each measures ingest with delivery on as
// a ratio of the same load with it off, back to back; the delivery rate
// while ingest runs; and the drain of the backlog an outage of the
// receiving end leaves.

// deliveryOptions are the flags the delivery scenarios use.
type deliveryOptions struct {
	duration, warmup, outage time.Duration
	conns, batchConns        int
	contacts, outageRate     int
	rounds                   int // off/on pairs compareDelivery runs
	generator, cpuProfile    string
	traffic                  string // the handoff scenario's traffic: native, batch or both
}

// fakeLatency is how long the receiving fake takes to answer each request.
const fakeLatency = time.Millisecond

// deliveryTarget is the receiving end of one delivery scenario: a fake
// started in this process and the proxy's metrics of delivering to it.
type deliveryTarget struct {
	name     string // as printed: "hand-off", "mirror"
	fakeName string // as printed: "fake engine", "fake PostHog"
	unit     string // what a delivery counts: "record", "event"
	// delivered, deadLettered, breaker and backlog are the proxy's series:
	// what the receiver took, what it refused for good, the breaker's
	// state, the spool bytes not yet read.
	delivered, deadLettered, breaker, backlog string
	drainGoal                                 int // deliveries a second an outage's drain should reach; 0 for none
	// start starts a fresh fake answering after fakeLatency and returns it
	// with the proxy environment that delivers to it.
	start func() (deliveryFake, []string, error)
}

// deliveryFake is a fake receiver an outage stops and restarts.
type deliveryFake interface {
	Stop()
	Restart() error
	Close()
}

// trafficKind is one kind of ingest traffic delivery is measured under.
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

// useGenerator is the generator o names, the Go one when wrk is missing.
func (o *deliveryOptions) useGenerator() {
	if o.generator == "wrk" {
		if _, err := exec.LookPath("wrk"); err != nil {
			fmt.Println("wrk not found; using the Go generator")
			o.generator = "go"
		}
	}
}

// batchKind is POST /batch/ of bodies built by build (shape names them);
// they are built once, and each run sends them from the first.
func batchKind(o deliveryOptions, shape string, build func(n, perBody, contacts int) [][]byte) trafficKind {
	const perBody = 50
	n := max(15000, int((o.warmup+o.duration).Seconds()*150000/perBody))
	var bodies [][]byte
	load := func(addr string, wrap bool) *batchLoad {
		if bodies == nil {
			fmt.Printf("building %d gzip /batch/ bodies: %s …\n", n, shape)
			bodies = build(n, perBody, o.contacts)
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
	return trafficKind{name: "POST /batch/ (" + shape + ")", api: "posthog",
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

// compareDelivery measures kind against the bare handler, then with
// delivery to t off and on, each on a fresh stack, over o.rounds rounds in
// the order off-on, on-off, … so that a machine whose speed drifts during
// the run favours neither, and prints each round and the median ratio.
func compareDelivery(o deliveryOptions, t *deliveryTarget, kind trafficKind) error {
	rounds := max(1, o.rounds)
	fmt.Printf("\n%s, %s: bare handler, then %d rounds of the proxy without and with the %s (%s answering in %s); warm-up %s, then %s each\n",
		t.name, kind.name, rounds, t.name, t.fakeName, fakeLatency, o.warmup, o.duration)
	env := newEnv()
	ref, err := measureBare(env, o.warmup, o.duration, func(addr string, d time.Duration) (*loadResult, error) {
		return kind.bare(env, addr, d)
	})
	env.close()
	if err != nil {
		return err
	}
	var pairs []deliveryPair
	for r := range rounds {
		p, err := measureDeliveryPair(o, t, kind, r%2 == 1)
		if err != nil {
			return err
		}
		fmt.Printf("\nround %d of %d\n", r+1, rounds)
		printDeliveryComparison(t, kind, ref, p.off, p.on)
		if p.on.deliveredEnd != p.on.accepted {
			return fmt.Errorf("%s %d != events accepted %d", t.delivered, p.on.deliveredEnd, p.on.accepted)
		}
		pairs = append(pairs, p)
	}
	printRounds(t, kind, pairs)
	return nil
}

// deliveryPair is one round: the same load with delivery off and on.
type deliveryPair struct{ off, on *deliveryRun }

// measureDeliveryPair runs kind off then on, or on then off.
func measureDeliveryPair(o deliveryOptions, t *deliveryTarget, kind trafficKind, onFirst bool) (deliveryPair, error) {
	var p deliveryPair
	for _, on := range []bool{onFirst, !onFirst} {
		run, err := measureDeliveryRun(o, t, kind, on)
		if err != nil {
			return p, err
		}
		if on {
			p.on = run
		} else {
			p.off = run
		}
	}
	return p, nil
}

// deliveryRun is what one run of a kind measured.
type deliveryRun struct {
	res        *loadResult
	cpu        string        // the stack's CPU report over the measured phase
	stackCPU   time.Duration // the stack's and the bench's CPU over it
	proxyCPU   time.Duration // the proxy's CPU over it
	benchCPU   time.Duration // this process's: the fake's, with delivery on
	accepted   int64         // events the proxy stored, warm-up included
	delivering bool
	delivered0 int64 // the delivered series when the measured phase began
	delivered1 int64 // … when it ended
	lagAtEnd   int64 // events accepted and not yet delivered when the load stopped
	drain      time.Duration
	// deliveredEnd is the delivered series once drained.
	deliveredEnd int64
}

// measureDeliveryRun runs kind on a fresh stack, delivering to a fresh
// fake of t when on.
func measureDeliveryRun(o deliveryOptions, t *deliveryTarget, kind trafficKind, on bool) (*deliveryRun, error) {
	env := newEnv()
	defer env.close()
	var extraEnv []string
	if on {
		fake, fakeEnv, err := t.start()
		if err != nil {
			return nil, err
		}
		defer fake.Close()
		extraEnv = fakeEnv
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
	run, err := measuredPhase(o, t, kind, st, drive, on)
	if err != nil {
		return nil, err
	}
	if run.accepted, err = acceptedEvents(st.base, kind.api); err != nil {
		return nil, err
	}
	if on {
		return run, awaitDelivery(st.base, t, run, 10*time.Minute)
	}
	return run, nil
}

// measuredPhase drives the measured load and reads the CPU and the
// delivery's progress around it.
func measuredPhase(o deliveryOptions, t *deliveryTarget, kind trafficKind, st *stack, drive loadDriver, on bool) (*deliveryRun, error) {
	run := &deliveryRun{delivering: on}
	var meter *cpuMeter
	var proxy0, bench0 time.Duration
	stopProfile := func() {}
	res, err := drive(o.duration, func(generatorSetup time.Duration) {
		if o.cpuProfile != "" {
			stopProfile = profileRun(o, t, kind, st, on)
		}
		meter = st.cpu()
		meter.self -= generatorSetup
		proxy0, _ = processCPU(st.proxyPID)
		bench0 = benchCPU()
		if on {
			run.delivered0, _ = metricValue(st.base, t.delivered)
		}
	})
	if err != nil {
		return nil, err
	}
	stopProfile()
	run.res = res
	run.cpu = meter.report(res.acked, res.elapsed)
	run.stackCPU = meter.used()
	proxy1, _ := processCPU(st.proxyPID)
	run.proxyCPU, run.benchCPU = proxy1-proxy0, benchCPU()-bench0
	if on {
		run.delivered1, _ = metricValue(st.base, t.delivered)
	}
	return run, nil
}

// profileRun profiles the proxy (and, with delivery on, this process: the
// fake) during a measured phase; the returned func stops it.
func profileRun(o deliveryOptions, t *deliveryTarget, kind trafficKind, st *stack, on bool) func() {
	tag := fmt.Sprintf(".%s-%s-%s", t.name, kind.api, map[bool]string{true: "on", false: "off"}[on])
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := fetchProfile(st.pprofAddr, o.duration, o.cpuProfile+tag); err != nil {
			fmt.Fprintln(os.Stderr, "hogsend-bench:", err)
		}
	}()
	var f *os.File
	if on {
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

// awaitDelivery waits until every accepted event is delivered (or timeout
// passes), recording the lag when the load stopped and the time the rest
// took.
func awaitDelivery(base string, t *deliveryTarget, run *deliveryRun, timeout time.Duration) error {
	delivered, err := metricValue(base, t.delivered)
	if err != nil {
		return err
	}
	run.lagAtEnd = run.accepted - delivered
	start := time.Now()
	err = waitMetric(base, t.delivered, run.accepted, timeout)
	run.drain = time.Since(start)
	run.deliveredEnd, _ = metricValue(base, t.delivered)
	return err
}

func (r *deliveryRun) rate() float64 { return float64(r.res.acked) / r.res.elapsed.Seconds() }

func (r *deliveryRun) proxyPerEvent() float64 {
	return float64(r.proxyCPU.Nanoseconds()) / 1000 / float64(r.res.acked)
}

func printDeliveryComparison(t *deliveryTarget, kind trafficKind, ref *reference, off, on *deliveryRun) {
	fmt.Println()
	fmt.Printf("%s, %s\n", t.name, kind.name)
	for _, r := range []*deliveryRun{off, on} {
		label := fmt.Sprintf("%s %s", t.name, map[bool]string{false: "off:", true: "on: "}[r.delivering])
		fmt.Printf("  %-17s %.0f events/s (ratio to bare %.2f), p50 %s p99 %s, errors %d %v; proxy %.2f µs CPU per event\n",
			label, r.rate(), r.rate()/ref.rate, r.res.p(0.50), r.res.p(0.99), r.res.errors, r.res.firstErrors, r.proxyPerEvent())
		fmt.Print("  " + r.cpu)
	}
	fmt.Printf("  bare handler:     %.0f events/s, p99 %s\n", ref.rate, ref.p99)
	fmt.Printf("  ratio on/off:     %.2f (goal ≥ 0.80); proxy CPU per event +%.2f µs with the %s\n",
		on.rate()/off.rate(), on.proxyPerEvent()-off.proxyPerEvent(), t.name)
	printCPUBound(t, off, on)
	printDelivery(t, on)
}

// printCPUBound prints the on/off ratio the stack's CPU per event
// predicts: on a shared machine the rates follow the neighbours, the CPU
// each event costs does not.
func printCPUBound(t *deliveryTarget, off, on *deliveryRun) {
	perEvent := func(d time.Duration, r *deliveryRun) float64 {
		return float64(d.Nanoseconds()) / 1000 / float64(r.res.acked)
	}
	offCost, onCost := perEvent(off.stackCPU, off), perEvent(on.stackCPU, on)
	// The fake's share: this process's CPU per event beyond the run without it.
	fakeCost := perEvent(on.benchCPU, on) - perEvent(off.benchCPU, off)
	fmt.Printf("  if CPU-bound:     on/off %.2f from the stack's CPU per event (%.2f µs off, %.2f µs on: proxy, Redis, ClickHouse, this process); %.2f without the %s's %.2f µs\n",
		offCost/onCost, offCost, onCost, offCost/(onCost-fakeCost), t.fakeName, fakeCost)
}

// printDelivery prints what the fake cost and whether delivery kept up.
func printDelivery(t *deliveryTarget, on *deliveryRun) {
	secs := on.res.elapsed.Seconds()
	fmt.Printf("  %-17s %.2f µs CPU per delivered %s (%.0f%% of a core; the bench process, generator included when it is Go)\n",
		t.fakeName+":", float64(on.benchCPU.Nanoseconds())/1000/float64(max(1, on.delivered1-on.delivered0)), t.unit, 100*on.benchCPU.Seconds()/secs)
	fmt.Printf("  delivery:         %.0f %ss/s while ingest ran (ingest %.0f events/s); lag when the load stopped %d %ss, drained %.1fs later\n",
		float64(on.delivered1-on.delivered0)/secs, t.unit, on.rate(), on.lagAtEnd, t.unit, on.drain.Seconds())
	kept := "kept up"
	if on.lagAtEnd > int64(on.rate()) {
		kept = "fell behind (lag over a second of ingest)"
	}
	fmt.Printf("  %-17s %s; delivered %d of %d accepted events (warm-up included)\n", t.name+":", kept, on.deliveredEnd, on.accepted)
}
