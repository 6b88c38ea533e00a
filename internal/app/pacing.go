package app

import (
	"context"
	"runtime"

	"github.com/VictoriaMetrics/metrics"

	"github.com/hogsend/hogsend-proxy/internal/pace"
	"github.com/hogsend/hogsend-proxy/sinks/engine"
	"github.com/hogsend/hogsend-proxy/sinks/posthog"
)

// busyPerCPU is the requests in flight per CPU past which ingest counts as
// queueing: a closed-loop load at the peak keeps 64 in flight on two
// cores, 2,000 events/s beside a drain keeps under ten.
const busyPerCPU = 8

// mirrorFloor is the events a second the mirror keeps sending however
// short of CPU the process is.
const mirrorFloor = 1000

// handOffFloor is the records a second the hand-off keeps sending however
// short of CPU the process is: each is an HTTP exchange of its own.
const handOffFloor = 100

// pacing is the gates of the hand-off and the mirror and the pacer that
// moves them (docs/operations.md § Delivery pacing); nil gates mean full
// concurrency.
type pacing struct {
	handOff     *pace.Gate
	handOffRate *pace.Budget
	mirror      *pace.Budget
	cancel      context.CancelFunc
	done        chan struct{}
}

// startPacing paces the configured deliveries by the process's CPU
// pressure, unless HOGSEND_DELIVERY_YIELD is off.
func (a *App) startPacing(set *metrics.Set) {
	cfg := &a.Config
	p := &pacing{}
	a.pacing = p
	if !cfg.DeliveryYield || (!cfg.HandOff() && cfg.PostHogUpstreamURL == "") {
		return
	}
	var gates []pace.Paced
	if cfg.HandOff() {
		// At the floors, one exchange in flight and 100 a second keep
		// records moving.
		p.handOff = pace.NewGate(1, cfg.UpstreamConcurrency)
		p.handOffRate = pace.NewBudget(handOffFloor)
		gates = append(gates, p.handOff, p.handOffRate)
		set.NewGauge(`hogsend_delivery_limit{consumer="`+engine.SpoolConsumer+`"}`, func() float64 { return float64(p.handOff.Limit()) })
		set.NewGauge(`hogsend_delivery_rate_limit{consumer="`+engine.SpoolConsumer+`"}`, p.handOffRate.Rate)
	}
	if cfg.PostHogUpstreamURL != "" {
		p.mirror = pace.NewBudget(mirrorFloor)
		gates = append(gates, p.mirror)
		set.NewGauge(`hogsend_delivery_rate_limit{consumer="`+posthog.SpoolConsumer+`"}`, p.mirror.Rate)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		defer close(p.done)
		busy := int64(busyPerCPU * runtime.GOMAXPROCS(0))
		pressure := pace.WhileBusy(pace.NewScheduler(0, 0), func() bool { return a.inFlight.Load() >= busy })
		pace.NewPacer(pressure, 0, gates...).Run(ctx)
	}()
}

func (p *pacing) stop() {
	if p != nil && p.cancel != nil {
		p.cancel()
		<-p.done
	}
}
