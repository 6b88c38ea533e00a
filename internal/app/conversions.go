package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/VictoriaMetrics/metrics"

	"github.com/hogsend/hogsend-proxy/config"
	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/platforms"
	"github.com/hogsend/hogsend-proxy/sinks/spool"
)

// LoadConversions parses the conversions section of cfg; errors name the
// rule or destination and the field.
func LoadConversions(cfg *config.Config) (*platforms.Settings, error) {
	return platforms.Load(cfg.Conversions, platforms.Options{LookupEnv: os.LookupEnv})
}

// Conversions is the running conversion pipeline: the deriver reading the
// event spool and one dispatcher per destination.
type Conversions struct {
	Settings    *platforms.Settings
	Deriver     *conversions.Deriver
	Dispatchers []*conversions.Dispatcher
	History     *conversions.History

	reader *spool.Reader
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startConversions opens the destination queues under the data directory and
// starts the deriver and the dispatchers.
func (a *App) startConversions(settings *platforms.Settings, set *metrics.Set) (err error) {
	c := &Conversions{Settings: settings}
	log := a.Logger.With("component", "conversions")
	c.History = conversions.NewHistory(a.Backend.InsertDispatches, log)
	defer func() {
		if err != nil {
			for _, d := range c.Dispatchers {
				d.Close()
			}
		}
	}()
	opts := settings.Dispatch
	opts.Logger = log
	for _, dest := range settings.Destinations {
		dir := filepath.Join(a.Config.DataDir, "conversions", dest.Name())
		d, err := conversions.OpenDispatcher(dir, dest, a.Backend, c.History, opts)
		if err != nil {
			return err
		}
		c.Dispatchers = append(c.Dispatchers, d)
	}
	if c.reader, err = a.Spool.Reader(conversions.SpoolConsumer); err != nil {
		return fmt.Errorf("open spool reader %s: %w", conversions.SpoolConsumer, err)
	}
	c.Deriver = conversions.NewDeriver(c.reader, conversions.DeriverOptions{
		Rules:       settings.Rules,
		Dispatchers: c.Dispatchers,
		Consent:     settings.Consent,
		Store:       a.Backend,
		History:     c.History,
		StoredUpTo:  a.Reader.Committed,
		Logger:      log,
	})
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	run := func(name string, fn func(context.Context) error) {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			if err := fn(ctx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("conversions stopped", "part", name, "err", err)
			}
		}()
	}
	run("deriver", c.Deriver.Run)
	for _, d := range c.Dispatchers {
		run(d.Name(), d.Run)
	}
	run("history", func(ctx context.Context) error { c.History.Run(ctx); return nil })
	registerConversionMetrics(set, c)
	a.Conversions = c
	names := make([]string, len(c.Dispatchers))
	for i, d := range c.Dispatchers {
		names[i] = d.Name()
	}
	log.Info("conversions forwarding", "rules", len(settings.Rules), "destinations", names)
	return nil
}

// stop ends the deriver and the dispatchers, writes the last history rows
// and closes the queues. Queued conversions stay on disk for the next start.
func (c *Conversions) stop() {
	c.cancel()
	c.wg.Wait()
	c.reader.Close()
	for _, d := range c.Dispatchers {
		d.Close()
	}
}

func registerConversionMetrics(set *metrics.Set, c *Conversions) {
	set.NewGauge("hogsend_conversions_derived_total", func() float64 { return float64(c.Deriver.Derived()) })
	set.NewGauge("hogsend_conversions_skipped_total", func() float64 { return float64(c.Deriver.Skipped()) })
	set.NewGauge("hogsend_conversion_clicks_recorded_total", func() float64 { return float64(c.Deriver.Clicks()) })
	set.NewGauge(`hogsend_spool_backlog_bytes{consumer="conversions"}`, func() float64 { return float64(c.Deriver.Backlog()) })
	set.NewGauge("hogsend_conversion_history_rows_written_total", func() float64 { return float64(c.History.Written()) })
	set.NewGauge("hogsend_conversion_history_rows_dropped_total", func() float64 { return float64(c.History.Dropped()) })
	for _, d := range c.Dispatchers {
		l := fmt.Sprintf(`{destination=%q}`, d.Name())
		set.NewGauge("hogsend_conversions_delivered_total"+l, func() float64 { return float64(d.Delivered()) })
		set.NewGauge("hogsend_conversions_failed_total"+l, func() float64 { return float64(d.Failed()) })
		set.NewGauge("hogsend_conversion_retries_total"+l, func() float64 { return float64(d.Retried()) })
		set.NewGauge("hogsend_conversion_requests_total"+l, func() float64 { return float64(d.Attempts()) })
		set.NewGauge("hogsend_conversion_queue_bytes"+l, func() float64 { return float64(d.Backlog()) })
		set.NewGauge("hogsend_conversion_breaker_open"+l, func() float64 {
			switch d.BreakerState() {
			case "open":
				return 1
			case "half-open":
				return 0.5
			}
			return 0
		})
		set.NewGauge("hogsend_conversion_destination_halted"+l, func() float64 {
			if d.Halted() != "" {
				return 1
			}
			return 0
		})
	}
}
