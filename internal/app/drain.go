package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/hogsend/hogsend-proxy/config"
	"github.com/hogsend/hogsend-proxy/proxy"
)

// DrainLeft is what a data directory still holds for each destination, in
// spool or queue bytes not yet committed as delivered.
type DrainLeft struct {
	ClickHouse  int64
	Conversions int64 // the deriver's spool bytes and the destination queues
	HandOff     int64
	Mirror      int64
}

// Zero reports a data directory with nothing left to deliver.
func (l DrainLeft) Zero() bool { return l == DrainLeft{} }

func (l DrainLeft) String() string {
	return fmt.Sprintf("clickhouse %d bytes, conversions %d, hand-off %d, mirror %d", l.ClickHouse, l.Conversions, l.HandOff, l.Mirror)
}

// drainPoll spaces the checks of what is left; the consumers commit their
// cursors about once a second.
const drainPoll = 100 * time.Millisecond

// Drain delivers what the proxy that owned cfg.DataDir left there, with the
// same sinks serve runs and no listener, until nothing is left or ctx ends
// (docs/operations.md § Several proxies). The spool's lock keeps it off a
// directory a running proxy holds. progress, when set, is called about
// once a second.
func Drain(ctx context.Context, cfg config.Config, log *slog.Logger, progress func(DrainLeft)) (DrainLeft, error) {
	if cfg.Embedded() {
		return DrainLeft{}, errors.New("drain: an embedded proxy's data directory holds its ClickHouse too: run `serve` on it instead (drain is for server mode, HOGSEND_CLICKHOUSE_URL)")
	}
	// Nothing else runs: delivery has the CPU to itself.
	cfg.DeliveryYield = false
	a := &App{Config: cfg, Logger: log, drainOnly: true}
	defer a.closeDeps()
	if _, err := a.openSinks(ctx, metrics.NewSet()); err != nil {
		return DrainLeft{}, err
	}
	lastReport := time.Now()
	for {
		left := a.left()
		if left.Zero() {
			return left, nil
		}
		if progress != nil && time.Since(lastReport) >= time.Second {
			progress(left)
			lastReport = time.Now()
		}
		select {
		case <-ctx.Done():
			return left, fmt.Errorf("drain: %s left: %w", left, ctx.Err())
		case <-time.After(drainPoll):
		}
	}
}

// openSinks opens the data directory, ClickHouse and the identity store
// (a drain confirms the spool's idempotency claims there) and starts every
// sink; it returns the readiness checks of the optional ones.
func (a *App) openSinks(ctx context.Context, set *metrics.Set) ([]proxy.Check, error) {
	settings, err := LoadConversions(&a.Config)
	if err != nil {
		return nil, err
	}
	if err := a.openLocal(); err != nil {
		return nil, err
	}
	if err := a.openClickHouse(ctx); err != nil {
		return nil, err
	}
	if err := a.openIdentity(ctx); err != nil {
		return nil, err
	}
	return a.startSinks(settings, set)
}

// left is what each sink has not committed as delivered.
func (a *App) left() DrainLeft {
	l := DrainLeft{ClickHouse: a.Reader.Backlog()}
	if c := a.Conversions; c != nil {
		l.Conversions = c.Deriver.Backlog()
		for _, d := range c.Dispatchers {
			l.Conversions += d.Backlog()
		}
	}
	if a.HandOff != nil {
		l.HandOff = a.HandOff.Backlog()
	}
	if a.Mirror != nil {
		l.Mirror = a.Mirror.Backlog()
	}
	return l
}
