package main

import (
	"fmt"
	"time"
)

// outageLoad is the steady load an outage of the receiving end runs
// under, and the check that each of its events arrived once.
type outageLoad struct {
	what string // as printed: "2000 POST /v1/events a second"
	api  string // the label of hogsend_events_accepted_total
	run  func(st *stack, key string, stop <-chan struct{}) *loadResult
	// verify prints what the fake received and checks every acknowledged
	// event reached it once; accepted is the proxy's count.
	verify func(fake deliveryFake, res *loadResult, accepted int64) error
}

// runOutage stops t's fake for o.outage under load, restarts it, and
// measures the backlog, the time to drain it and the drain's delivery
// rate; then checks that every acknowledged event reached the fake once.
func runOutage(o deliveryOptions, t *deliveryTarget, load outageLoad) error {
	env := newEnv()
	defer env.close()
	fake, fakeEnv, err := t.start()
	if err != nil {
		return err
	}
	defer fake.Close()
	st, err := startStack(env, false, fakeEnv...)
	if err != nil {
		return err
	}
	key, err := mintKey(st.base, "bench-admin-key")
	if err != nil {
		return err
	}
	fmt.Printf("\n%s: %s outage of the %s under a steady load of %s …\n", t.name, o.outage, t.fakeName, load.what)
	stop := make(chan struct{})
	loaded := make(chan *loadResult, 1)
	go func() { loaded <- load.run(st, key, stop) }()
	out, err := outageAndDrain(o, t, load.api, st, fake)
	close(stop)
	res := <-loaded
	if err != nil {
		return err
	}
	accepted, err := acceptedEvents(st.base, load.api)
	if err != nil {
		return err
	}
	if err := waitMetric(st.base, t.delivered, accepted, 5*time.Minute); err != nil {
		return err
	}
	deadLettered, _ := metricValue(st.base, t.deadLettered)
	out.print(t, res)
	fmt.Printf("  dead-lettered:    %d of %d events accepted\n", deadLettered, accepted)
	if res.acked > accepted {
		return fmt.Errorf("client saw %d acknowledged, proxy counted %d", res.acked, accepted)
	}
	return load.verify(fake, res, accepted)
}

// outageFigures is what the outage measured.
type outageFigures struct {
	backlog, backlogBytes int64
	// After the restart: the first delivery, the breaker closing, the
	// backlog of the restart delivered.
	firstDelivery, breakerClosed, drain time.Duration
	drained                             int64         // delivered in drain
	longestStall                        time.Duration // longest time without a delivery after the first
	stalled                             time.Duration // sum of such times of stallAtLeast or more
	// CPU over the drain: the proxy's, and this process's (the fake's).
	proxyCPU, benchCPU time.Duration
}

// outageAndDrain runs the load 5 s with the fake up, stops it for
// o.outage, restarts it and waits until the backlog of the restart is
// delivered.
func outageAndDrain(o deliveryOptions, t *deliveryTarget, api string, st *stack, fake deliveryFake) (*outageFigures, error) {
	base := st.base
	time.Sleep(5 * time.Second)
	fake.Stop()
	time.Sleep(o.outage)
	accepted, err := metricValue(base, `hogsend_events_accepted_total{api="`+api+`"}`)
	if err != nil {
		return nil, err
	}
	delivered, err := metricValue(base, t.delivered)
	if err != nil {
		return nil, err
	}
	out := &outageFigures{backlog: accepted - delivered}
	out.backlogBytes, _ = metricValue(base, t.backlog)
	if err := fake.Restart(); err != nil {
		return nil, err
	}
	proxy0, _ := processCPU(st.proxyPID)
	bench0 := benchCPU()
	err = out.watchDrain(base, t, delivered, accepted, time.Now())
	proxy1, _ := processCPU(st.proxyPID)
	out.proxyCPU, out.benchCPU = proxy1-proxy0, benchCPU()-bench0
	return out, err
}

// stallAtLeast is the shortest time without a delivery counted as a stall
// of the drain (a lane waiting out its backoff holds the window).
const stallAtLeast = 250 * time.Millisecond

// watchDrain polls the delivery from the restart at up until it has
// delivered through accepted.
func (out *outageFigures) watchDrain(base string, t *deliveryTarget, delivered, accepted int64, up time.Time) error {
	last, lastAt := delivered, up
	for {
		now, err := metricValue(base, t.delivered)
		if err != nil {
			return err
		}
		since := time.Since(up)
		if out.breakerClosed == 0 {
			if open, err := metricValue(base, t.breaker); err == nil && open == 0 {
				out.breakerClosed = since
			}
		}
		if now > last {
			if out.firstDelivery == 0 {
				out.firstDelivery = since
			} else if gap := time.Since(lastAt); gap >= stallAtLeast {
				out.longestStall = max(out.longestStall, gap)
				out.stalled += gap
			}
			last, lastAt = now, time.Now()
		}
		if now >= accepted {
			out.drain, out.drained = since, now-delivered
			return nil
		}
		if since > 10*time.Minute {
			return fmt.Errorf("%s delivered %d of a backlog of %d %ss in 10 minutes", t.name, now-delivered, out.backlog, t.unit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// print reports the outage's figures.
func (out *outageFigures) print(t *deliveryTarget, res *loadResult) {
	fmt.Printf("%s through an outage of the %s (steady load kept up through the drain)\n", t.name, t.fakeName)
	fmt.Printf("  load:             %d events acknowledged (errors %d %v)\n", res.acked, res.errors, res.firstErrors)
	fmt.Printf("  backlog:          %d %ss (%d spool bytes unread) when the %s came back\n", out.backlog, t.unit, out.backlogBytes, t.fakeName)
	goal := ""
	if t.drainGoal > 0 {
		goal = fmt.Sprintf(" (goal ≥ %d)", t.drainGoal)
	}
	fmt.Printf("  drain:            first delivery %.1fs after the restart, backlog delivered %.1fs after it; %.0f %ss/s from the restart, %.0f from the first delivery%s\n",
		out.firstDelivery.Seconds(), out.drain.Seconds(), float64(out.drained)/out.drain.Seconds(), t.unit,
		float64(out.drained)/max(0.001, (out.drain-out.firstDelivery).Seconds()), goal)
	fmt.Printf("  recovery:         breaker closed %.1fs after the restart; once delivering resumed, %.1fs without a delivery in stalls of %s or more (longest %.1fs)\n",
		out.breakerClosed.Seconds(), out.stalled.Seconds(), stallAtLeast, out.longestStall.Seconds())
	perUnit := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 / float64(max(1, out.drained)) }
	fmt.Printf("  drain cpu:        proxy %.2f µs per %s delivered (%.0f%% of a core, ingest of the steady load included), %s %.2f µs (%.0f%%)\n",
		perUnit(out.proxyCPU), t.unit, 100*out.proxyCPU.Seconds()/out.drain.Seconds(), t.fakeName, perUnit(out.benchCPU), 100*out.benchCPU.Seconds()/out.drain.Seconds())
}
