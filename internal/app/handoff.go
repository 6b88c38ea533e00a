package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/proxy"
	"github.com/hogsend/hogsend-proxy/sinks/engine"
	"github.com/hogsend/hogsend-proxy/sinks/spool"
)

// HandOff is the running hand-off of stored records to the Hogsend engine
// (docs/upstream.md § 3).
type HandOff struct {
	*engine.HandOff
	Answers *engine.Answers

	reader *spool.Reader
	cancel context.CancelFunc
	done   chan struct{}
}

// handOffLagReady bounds the hand-off's lag before /readyz names it.
const handOffLagReady = 60 * time.Second

// startHandOff opens the hand-off's spool reader and starts delivering.
func (a *App) startHandOff(set *metrics.Set) error {
	cfg := &a.Config
	client, err := engine.NewClient(engine.ClientOptions{URL: cfg.UpstreamURL, APIKey: cfg.UpstreamAPIKey, Timeout: cfg.UpstreamTimeout})
	if err != nil {
		return fmt.Errorf("HOGSEND_UPSTREAM_URL: %w", err)
	}
	h := &HandOff{Answers: engine.NewAnswers(), done: make(chan struct{})}
	if h.reader, err = a.Spool.Reader(engine.SpoolConsumer); err != nil {
		return fmt.Errorf("open spool reader %s: %w", engine.SpoolConsumer, err)
	}
	log := a.Logger.With("component", "handoff")
	h.HandOff = engine.New(h.reader, engine.Options{
		Client: client, DeadLetters: a.Backend, Answers: h.Answers, Sync: cfg.UpstreamMode == "sync",
		Concurrency: cfg.UpstreamConcurrency, Gate: a.pacing.handOff, Budget: a.pacing.handOffRate, Logger: log,
	})
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		defer close(h.done)
		if err := a.schema.wait(ctx); err != nil {
			return // stopped before ClickHouse (the dead-letter table) answered
		}
		if err := h.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("hand-off stopped", "err", err)
		}
	}()
	registerHandOffMetrics(set, h)
	a.HandOff = h
	log.Info("handing stored records off to the hogsend engine", "mode", cfg.UpstreamMode, "lanes", cfg.UpstreamConcurrency)
	return nil
}

// stop ends delivery; calls not yet delivered are sent by the next start.
func (h *HandOff) stop() {
	h.cancel()
	<-h.done
	h.reader.Close()
}

// check reports the hand-off on /readyz without failing it: the proxy takes
// writes while the engine is away, and delivers them after.
func (h *HandOff) check() proxy.Check {
	return proxy.Check{Name: "hogsend_handoff", Advisory: true,
		Fn: func(context.Context) error {
			if calls, age := h.Lag(); age > handOffLagReady {
				return fmt.Errorf("hand-off lags %s (%d records)", age.Round(time.Second), calls)
			}
			return nil
		},
		Detail: func() string {
			calls, age := h.Lag()
			return fmt.Sprintf("lag %d records, %s; breaker %s", calls, age.Round(time.Millisecond), h.BreakerState())
		}}
}

func registerHandOffMetrics(set *metrics.Set, h *HandOff) {
	set.NewGauge("hogsend_handoff_delivered_total", func() float64 { return float64(h.Delivered()) })
	set.NewGauge("hogsend_handoff_retried_total", func() float64 { return float64(h.Retried()) })
	set.NewGauge("hogsend_handoff_dead_lettered_total", func() float64 { return float64(h.DeadLettered()) })
	set.NewGauge("hogsend_handoff_requests_total", func() float64 { return float64(h.Attempts()) })
	set.NewGauge("hogsend_handoff_lag_records", func() float64 { calls, _ := h.Lag(); return float64(calls) })
	set.NewGauge("hogsend_handoff_lag_seconds", func() float64 { _, age := h.Lag(); return age.Seconds() })
	set.NewGauge(`hogsend_spool_backlog_bytes{consumer="hogsend_engine"}`, func() float64 { return float64(h.Backlog()) })
	set.NewGauge("hogsend_handoff_breaker_open", func() float64 {
		switch h.BreakerState() {
		case "open":
			return 1
		case "half-open":
			return 0.5
		}
		return 0
	})
}

// edgeHandOff is the hand-off as the proxy's edge sees it; nil without one.
func (a *App) edgeHandOff() proxy.HandOff {
	if a.HandOff == nil {
		return nil
	}
	return engineAnswers{answers: a.HandOff.Answers, timeout: a.Config.UpstreamSyncTimeout,
		sync: a.Config.UpstreamMode == "sync", auth: "Bearer " + a.Config.UpstreamAPIKey}
}

// engineAnswers adapts engine.Answers to the proxy.
type engineAnswers struct {
	answers *engine.Answers
	timeout time.Duration
	sync    bool
	auth    string
}

func (e engineAnswers) Sync() bool { return e.sync }

func (e engineAnswers) Authorization() string { return e.auth }

func (e engineAnswers) Await(ctx context.Context, call uuid.UUID) (proxy.EngineAnswer, bool) {
	a, ok := e.answers.Await(ctx, call, e.timeout)
	return proxy.EngineAnswer{Status: a.Status, ContentType: a.ContentType, Body: a.Body}, ok
}
