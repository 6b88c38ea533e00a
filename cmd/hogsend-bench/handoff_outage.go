package main

import (
	"fmt"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeengine"
)

// runHandOffOutage stops the fake engine for o.outage under a steady native
// load, restarts it, and measures the backlog, the time to drain it and
// the drain's delivery rate; then checks that every acknowledged event
// reached the engine once.
func runHandOffOutage(o handOffOptions) error {
	env := newEnv()
	defer env.close()
	eng, err := fakeengine.New(fakeengine.Options{NoRequestLog: true})
	if err != nil {
		return err
	}
	defer eng.Close()
	eng.Script.SetLatency(engineLatency)
	st, err := startStack(env, false, "HOGSEND_UPSTREAM_URL="+eng.URL(), "HOGSEND_UPSTREAM_API_KEY="+eng.MintKey("ingest"))
	if err != nil {
		return err
	}
	key, err := mintKey(st.base, "bench-admin-key")
	if err != nil {
		return err
	}
	fmt.Printf("\nhand-off: %s engine outage under a steady load of %d POST /v1/events a second …\n", o.outage, o.outageRate)
	load := &pacedEvents{addr: st.addr, key: key, rate: o.outageRate, contacts: o.contacts, conns: 16}
	stop := make(chan struct{})
	loaded := make(chan *loadResult, 1)
	go func() { loaded <- load.run(stop) }()
	out, err := outageAndDrain(o, st, eng)
	close(stop)
	res := <-loaded
	if err != nil {
		return err
	}
	return checkOutage(st.base, eng, res, out)
}

// outageFigures is what the outage measured.
type outageFigures struct {
	backlog, backlogBytes int64
	// After the restart: the first delivery, the breaker closing, the
	// backlog of the restart delivered.
	firstDelivery, breakerClosed, drain time.Duration
	drained                             int64         // records delivered in drain
	longestStall                        time.Duration // longest time without a delivery after the first
	stalled                             time.Duration // sum of such times of stallAtLeast or more
	// CPU over the drain: the proxy's, and this process's (the fake engine).
	proxyCPU, benchCPU time.Duration
}

// outageAndDrain runs the load 5 s with the engine up, stops it for
// o.outage, restarts it and waits until the backlog of the restart is
// delivered.
func outageAndDrain(o handOffOptions, st *stack, eng *fakeengine.Server) (*outageFigures, error) {
	base := st.base
	time.Sleep(5 * time.Second)
	eng.Stop()
	time.Sleep(o.outage)
	accepted, err := metricValue(base, `hogsend_events_accepted_total{api="native"}`)
	if err != nil {
		return nil, err
	}
	delivered, err := metricValue(base, "hogsend_handoff_delivered_total")
	if err != nil {
		return nil, err
	}
	out := &outageFigures{backlog: accepted - delivered}
	out.backlogBytes, _ = metricValue(base, `hogsend_spool_backlog_bytes{consumer="hogsend_engine"}`)
	if err := eng.Restart(); err != nil {
		return nil, err
	}
	proxy0, _ := processCPU(st.proxyPID)
	bench0 := benchCPU()
	err = out.watchDrain(base, delivered, accepted, time.Now())
	proxy1, _ := processCPU(st.proxyPID)
	out.proxyCPU, out.benchCPU = proxy1-proxy0, benchCPU()-bench0
	return out, err
}

// stallAtLeast is the shortest time without a delivery counted as a stall
// of the drain (a lane waiting out its backoff holds the window).
const stallAtLeast = 250 * time.Millisecond

// watchDrain polls the hand-off from the restart at up until it has
// delivered through accepted.
func (out *outageFigures) watchDrain(base string, delivered, accepted int64, up time.Time) error {
	last, lastAt := delivered, up
	for {
		now, err := metricValue(base, "hogsend_handoff_delivered_total")
		if err != nil {
			return err
		}
		since := time.Since(up)
		if out.breakerClosed == 0 {
			if open, err := metricValue(base, "hogsend_handoff_breaker_open"); err == nil && open == 0 {
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
			return fmt.Errorf("hand-off delivered %d of a backlog of %d records in 10 minutes", now-delivered, out.backlog)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkOutage waits until every accepted event is delivered, prints the
// figures and checks the fake stored each acknowledged event once.
func checkOutage(base string, eng *fakeengine.Server, res *loadResult, out *outageFigures) error {
	accepted, err := acceptedEvents(base, "native")
	if err != nil {
		return err
	}
	if err := waitMetric(base, "hogsend_handoff_delivered_total", accepted, 5*time.Minute); err != nil {
		return err
	}
	stored, distinct := storedOnce(eng)
	deadLettered, _ := metricValue(base, "hogsend_handoff_dead_lettered_total")
	fmt.Println("hand-off through an engine outage (steady load kept up through the drain)")
	fmt.Printf("  load:             %d events acknowledged (errors %d %v)\n", res.acked, res.errors, res.firstErrors)
	fmt.Printf("  backlog:          %d records (%d spool bytes unread) when the engine came back\n", out.backlog, out.backlogBytes)
	fmt.Printf("  drain:            first delivery %.1fs after the restart, backlog delivered %.1fs after it; %.0f records/s from the restart, %.0f from the first delivery (goal ≥ 10000)\n",
		out.firstDelivery.Seconds(), out.drain.Seconds(), float64(out.drained)/out.drain.Seconds(),
		float64(out.drained)/max(0.001, (out.drain-out.firstDelivery).Seconds()))
	fmt.Printf("  recovery:         breaker closed %.1fs after the restart; once delivering resumed, %.1fs without a delivery in stalls of %s or more (longest %.1fs)\n",
		out.breakerClosed.Seconds(), out.stalled.Seconds(), stallAtLeast, out.longestStall.Seconds())
	perRecord := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 / float64(max(1, out.drained)) }
	fmt.Printf("  drain cpu:        proxy %.2f µs per record delivered (%.0f%% of a core, ingest of the steady load included), fake engine %.2f µs (%.0f%%)\n",
		perRecord(out.proxyCPU), 100*out.proxyCPU.Seconds()/out.drain.Seconds(), perRecord(out.benchCPU), 100*out.benchCPU.Seconds()/out.drain.Seconds())
	fmt.Printf("  engine:           %d events stored, %d distinct; proxy accepted %d; dead-lettered %d; POST /v1/events received %d\n",
		stored, distinct, accepted, deadLettered, eng.ReceivedOn("POST /v1/events"))
	if stored != accepted || distinct != stored {
		return fmt.Errorf("engine stored %d events (%d distinct), proxy accepted %d", stored, distinct, accepted)
	}
	if res.acked > accepted {
		return fmt.Errorf("client saw %d acknowledged, proxy counted %d", res.acked, accepted)
	}
	return nil
}

// storedOnce counts the outage load's events at the fake and how many
// distinct seqs they carry: an event stored twice shows as fewer.
func storedOnce(eng *fakeengine.Server) (stored, distinct int64) {
	seen := map[float64]bool{}
	for _, ev := range eng.Events() {
		if ev.Name != outageEventName {
			continue
		}
		stored++
		seq, _ := ev.EventProperties["seq"].(float64)
		if !seen[seq] {
			seen[seq] = true
			distinct++
		}
	}
	return stored, distinct
}

const debugTimeline = true
