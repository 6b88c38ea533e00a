package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/hogsend/hogsend-proxy/config"
	"github.com/hogsend/hogsend-proxy/proxy"
	"github.com/hogsend/hogsend-proxy/sinks/posthog"
	"github.com/hogsend/hogsend-proxy/sinks/spool"
)

// Mirror is the running mirror of captured events to the PostHog project
// (docs/posthog-upstream.md § 1).
type Mirror struct {
	*posthog.Mirror

	reader *spool.Reader
	cancel context.CancelFunc
	done   chan struct{}
}

// mirrorLagReady bounds the mirror's lag before /readyz names it.
const mirrorLagReady = 60 * time.Second

// openPostHog is the PostHog project of HOGSEND_POSTHOG_UPSTREAM_URL for
// the edge; nil without one.
func openPostHog(cfg *config.Config) (*proxy.PostHogUpstream, error) {
	if cfg.PostHogUpstreamURL == "" {
		return nil, nil
	}
	p, err := proxy.NewPostHogUpstream(cfg.PostHogUpstreamURL, cfg.PostHogAssetsURL, proxy.UpstreamOptions{Timeout: cfg.PostHogTimeout})
	if err != nil {
		return nil, fmt.Errorf("HOGSEND_POSTHOG_UPSTREAM_URL: %w", err)
	}
	return p, nil
}

// startMirror opens the mirror's spool reader and starts delivering.
func (a *App) startMirror(set *metrics.Set) error {
	cfg := &a.Config
	client, err := posthog.NewClient(posthog.ClientOptions{URL: cfg.PostHogUpstreamURL, Timeout: cfg.PostHogTimeout})
	if err != nil {
		return fmt.Errorf("HOGSEND_POSTHOG_UPSTREAM_URL: %w", err)
	}
	m := &Mirror{done: make(chan struct{})}
	if m.reader, err = a.Spool.Reader(posthog.SpoolConsumer); err != nil {
		return fmt.Errorf("open spool reader %s: %w", posthog.SpoolConsumer, err)
	}
	log := a.Logger.With("component", "posthog_mirror")
	m.Mirror = posthog.New(m.reader, posthog.Options{
		Client: client, DeadLetters: a.Backend, Native: cfg.PostHogMirrorNative, Token: cfg.PostHogMirrorToken,
		Budget: a.pacing.mirror, Logger: log,
	})
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() {
		defer close(m.done)
		if err := a.schema.wait(ctx); err != nil {
			return // stopped before ClickHouse (the dead-letter table) answered
		}
		if err := m.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("posthog mirror stopped", "err", err)
		}
	}()
	registerMirrorMetrics(set, m)
	a.Mirror = m
	log.Info("mirroring captured events to posthog", "native", cfg.PostHogMirrorNative)
	return nil
}

// stop ends delivery; events not yet delivered are sent by the next start.
func (m *Mirror) stop() {
	m.cancel()
	<-m.done
	m.reader.Close()
}

// check reports the mirror on /readyz without failing it: capture never
// waits for PostHog.
func (m *Mirror) check() proxy.Check {
	return proxy.Check{Name: "posthog_mirror", Advisory: true,
		Fn: func(context.Context) error {
			if events, age := m.Lag(); age > mirrorLagReady {
				return fmt.Errorf("mirror lags %s (%d events)", age.Round(time.Second), events)
			}
			return nil
		},
		Detail: func() string {
			events, age := m.Lag()
			return fmt.Sprintf("lag %d events, %s; breaker %s", events, age.Round(time.Millisecond), m.BreakerState())
		}}
}

func registerMirrorMetrics(set *metrics.Set, m *Mirror) {
	set.NewGauge("hogsend_posthog_mirror_delivered_total", func() float64 { return float64(m.Delivered()) })
	set.NewGauge("hogsend_posthog_mirror_batches_total", func() float64 { return float64(m.Batches()) })
	set.NewGauge("hogsend_posthog_mirror_retried_total", func() float64 { return float64(m.Retried()) })
	set.NewGauge("hogsend_posthog_mirror_dead_lettered_total", func() float64 { return float64(m.DeadLettered()) })
	set.NewGauge("hogsend_posthog_mirror_requests_total", func() float64 { return float64(m.Attempts()) })
	set.NewGauge("hogsend_posthog_mirror_lag_events", func() float64 { n, _ := m.Lag(); return float64(n) })
	set.NewGauge("hogsend_posthog_mirror_lag_seconds", func() float64 { _, age := m.Lag(); return age.Seconds() })
	set.NewGauge(`hogsend_spool_backlog_bytes{consumer="posthog_mirror"}`, func() float64 { return float64(m.Backlog()) })
	set.NewGauge("hogsend_posthog_mirror_breaker_open", func() float64 {
		switch m.BreakerState() {
		case "open":
			return 1
		case "half-open":
			return 0.5
		}
		return 0
	})
}
