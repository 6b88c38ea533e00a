// Package app wires hogsend-proxy together from a Config: spool, ClickHouse
// backend and writer, identity store, ingestor and HTTP server. The binary and
// the end-to-end tests both start the service through it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/hogsend/hogsend-proxy/config"
	"github.com/hogsend/hogsend-proxy/conversions/platforms"
	"github.com/hogsend/hogsend-proxy/proxy"
	"github.com/hogsend/hogsend-proxy/sinks/clickhouse"
	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/ingest"
)

// App is a running service.
type App struct {
	Config  config.Config
	Logger  *slog.Logger
	Spool   *spool.Spool
	Backend clickhouse.Backend
	Store   identity.Store
	Reader  *spool.Reader
	Writer  *clickhouse.Writer
	Ingest  *ingest.Ingestor
	Server  *proxy.Server
	Version string
	// Conversions is nil unless the config has a conversions section.
	Conversions *Conversions
	HandOff     *HandOff
	Mirror      *Mirror

	ln         net.Listener
	pprof      *http.Server
	serveErr   chan error
	schema     *schema
	stopWriter context.CancelFunc
	writerDone chan error
	closeOnce  sync.Once
	// drainOnly: no listener, no server (hogsend-proxy drain).
	drainOnly bool
	pacing    *pacing
	// inFlight counts the requests the server is handling, for pacing.
	inFlight atomic.Int64
}

// spoolJournal adapts the spool to ingest.Journal, which knows no sink: a
// payload over the spool's entry size is ingest.ErrTooLargeToStore (413).
type spoolJournal struct{ sp *spool.Spool }

func (j spoolJournal) Append(ctx context.Context, payload []byte) error {
	_, err := j.sp.Append(ctx, payload)
	if errors.Is(err, spool.ErrTooLarge) {
		return fmt.Errorf("%w: %w", ingest.ErrTooLargeToStore, err)
	}
	return err
}

// Start opens every dependency, runs migrations, rebuilds the in-process
// identity store in embedded mode, and starts serving on cfg.Listen. A
// ClickHouse server or Redis that does not answer yet does not stop it (see
// schema and identity.NewRedis); everything opened is closed again when a
// stage fails.
func Start(ctx context.Context, cfg config.Config, log *slog.Logger, version string) (*App, error) {
	a := &App{Config: cfg, Logger: log, Version: version}
	if err := a.start(ctx); err != nil {
		a.closeDeps()
		return nil, err
	}
	return a, nil
}

// start runs the start-up stages in order.
func (a *App) start(ctx context.Context) error {
	cfg, log := a.Config, a.Logger
	set := metrics.NewSet()
	checks, err := a.openSinks(ctx, set)
	if err != nil {
		return err
	}
	posthogUp, err := openPostHog(&cfg)
	if err != nil {
		return err
	}
	a.Ingest = ingest.New(a.Store, spoolJournal{a.Spool}, ingest.Options{
		IdempotencyWindow: cfg.IdempotencyWindow,
		EngineCalls:       cfg.HandOff(),
		Logger:            log,
	})
	set.NewGauge("hogsend_identity_pending_rows", func() float64 { rows, _ := a.Ingest.PendingIdentity(); return float64(rows) })
	set.NewGauge("hogsend_identity_pending_bytes", func() float64 { _, b := a.Ingest.PendingIdentity(); return float64(b) })
	if r, ok := a.Store.(*identity.Redis); ok {
		set.NewGauge(`hogsend_identity_touches_total{result="fresh"}`, func() float64 { n, stale := r.TouchCounts(); return float64(n - stale) })
		set.NewGauge(`hogsend_identity_touches_total{result="stale"}`, func() float64 { _, stale := r.TouchCounts(); return float64(stale) })
	}
	up, err := openUpstream(cfg)
	if err != nil {
		return err
	}
	auth := proxy.NewAuthenticator(cfg.AdminAPIKey, a.Store)
	if up != nil {
		auth.VerifyWithEngine(up)
	}
	a.Server = proxy.New(proxy.Options{
		Upstream:        up,
		Ingest:          a.Ingest,
		Auth:            auth,
		Metrics:         set,
		Logger:          log,
		MaxBodyBytes:    int(cfg.MaxBodyBytes),
		IngestSuspended: cfg.IngestSuspended,
		UserTokenSecret: cfg.UserTokenSecret,
		AdminAPIKey:     cfg.AdminAPIKey,
		HeaderTimeout:   cfg.HeaderTimeout,
		ReadTimeout:     cfg.ReadTimeout,
		Capture: ingest.CaptureOptions{Tokens: tokenSet(cfg.PostHogTokens), MaxDecoded: int(cfg.MaxDecodedBytes), MaxDecodeRatio: cfg.MaxDecodeRatio, MaxEvents: cfg.MaxEventsPerBatch, MaxEventBytes: int(cfg.MaxEventBytes), MaxProperties: cfg.MaxProperties, MaxPropertyBytes: int(cfg.MaxPropertyBytes),
			Trust: captureTrust(cfg)},
		TrustedProxies:   cfg.TrustedProxies,
		MaxConns:         cfg.MaxConns,
		MaxConnsPerIP:    cfg.MaxConnsPerIP,
		MaxInflightBytes: cfg.MaxInflightBytes,
		Checks: append([]proxy.Check{
			{Name: "identity", Fn: a.Store.Ping},
			{Name: "clickhouse", Fn: a.clickhouseReady, Detail: func() string {
				return fmt.Sprintf("writer backlog %d bytes", a.Reader.Backlog())
			}},
			{Name: "spool", Fn: a.spoolReady},
		}, checks...),
		HandOff:  a.edgeHandOff(),
		PostHog:  posthogUp,
		InFlight: &a.inFlight,
	})
	if cfg.PprofListen != "" {
		if a.pprof, err = startPprof(cfg.PprofListen, log); err != nil {
			return fmt.Errorf("HOGSEND_PPROF_LISTEN: %w", err)
		}
	}
	mode := "server"
	if cfg.Embedded() {
		mode = "embedded"
	}
	log.Info("hogsend-proxy listening", "addr", a.ln.Addr().String(), "mode", mode, "version", a.Version, "data_dir", cfg.DataDir)
	a.serveErr = make(chan error, 1)
	go func() { a.serveErr <- a.Server.Serve(a.ln) }()
	return nil
}

// startSinks starts what reads the spool: the ClickHouse writer, and the
// conversions, the hand-off and the mirror where configured. It returns
// the readiness checks of the optional ones.
func (a *App) startSinks(convSettings *platforms.Settings, set *metrics.Set) ([]proxy.Check, error) {
	cfg, log := &a.Config, a.Logger
	a.Writer = clickhouse.NewWriter(a.Backend, a.Reader, clickhouse.WriterOptions{
		MaxRows: cfg.BatchRows, MaxBytes: int(cfg.BatchBytes), MaxDelay: cfg.BatchDelay, Logger: log,
	})
	a.registerPipelineMetrics(set)
	writerCtx, stopWriter := context.WithCancel(context.Background())
	a.stopWriter = stopWriter
	a.writerDone = make(chan error, 1)
	go func() { a.writerDone <- a.runWriter(writerCtx) }()
	if cfg.Conversions != nil {
		if err := a.startConversions(convSettings, set); err != nil {
			return nil, err
		}
	}
	a.startPacing(set)
	var checks []proxy.Check
	if cfg.HandOff() {
		if err := a.startHandOff(set); err != nil {
			return nil, err
		}
		checks = append(checks, a.HandOff.check())
	}
	if cfg.PostHogUpstreamURL != "" {
		if err := a.startMirror(set); err != nil {
			return nil, err
		}
		checks = append(checks, a.Mirror.check())
	}
	return checks, nil
}

// openLocal creates the data directory, takes the spool (whose lock keeps a
// second process off it) and the listen address: what fails fast comes
// before the dependencies that take time.
func (a *App) openLocal() error {
	cfg := &a.Config
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("HOGSEND_DATA_DIR: %w", err)
	}
	var err error
	if a.Spool, err = OpenSpool(cfg, a.Logger); err != nil {
		return err
	}
	if a.Reader, err = a.Spool.Reader("clickhouse"); err != nil {
		return fmt.Errorf("open spool reader: %w", err)
	}
	if a.drainOnly {
		return nil
	}
	if a.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return fmt.Errorf("HOGSEND_LISTEN: %w", err)
	}
	return nil
}

// openClickHouse opens the backend and migrates it: the embedded engine
// within embeddedStartBound, a server once it answers (see schema).
func (a *App) openClickHouse(ctx context.Context) error {
	cfg := &a.Config
	var err error
	if cfg.Embedded() {
		a.Backend, err = openEmbeddedMigrated(ctx, cfg, embeddedStartBound)
		a.schema = &schema{backend: a.Backend, log: a.Logger}
		return err
	}
	if a.Backend, err = OpenBackend(ctx, cfg); err != nil {
		return err
	}
	a.schema = &schema{backend: a.Backend, log: a.Logger}
	return a.schema.migrateAtStart(ctx)
}

// openIdentity opens the identity store; the in-process one is rebuilt from
// ClickHouse and the spool.
func (a *App) openIdentity(ctx context.Context) error {
	cfg := &a.Config
	// Bounds the checks of a Redis that does not answer.
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var err error
	if a.Store, err = OpenStore(rctx, cfg); err != nil {
		return err
	}
	if cfg.RedisURL != "" {
		if err := a.Store.Ping(rctx); err != nil {
			a.Logger.Warn("identity redis not reachable yet: serving; requests that need identity get 503 until it answers", "err", err)
			return nil
		}
		a.confirmSpooled(rctx)
		return nil
	}
	if err := a.schema.wait(ctx); err != nil {
		return fmt.Errorf("rebuild identity store: %w", err)
	}
	n, err := restoreIdentity(ctx, cfg, a.Store, a.Backend, a.Reader)
	if err != nil {
		return err
	}
	a.Logger.Info("identity store rebuilt from embedded clickhouse", "pending_spool_entries", n)
	return nil
}

// confirmSpooled confirms the claims a killed run left pending; failing
// that, they expire within identity.PendingClaimWindow as they would have.
func (a *App) confirmSpooled(ctx context.Context) {
	n, err := confirmSpooledClaims(ctx, &a.Config, a.Store, a.Reader)
	if err != nil {
		a.Logger.Warn("idempotency claims of the spool not confirmed; retries of those requests get 503 until the claims expire", "err", err)
		return
	}
	if n > 0 {
		a.Logger.Info("confirmed the idempotency claims of the spool", "keys", n)
	}
}

// runWriter drains the spool into ClickHouse once its tables are migrated.
func (a *App) runWriter(ctx context.Context) error {
	if err := a.schema.wait(ctx); err != nil {
		return nil // stopped before ClickHouse answered
	}
	return a.Writer.Run(ctx)
}

// clickhouseReady is the readiness check of ClickHouse: migrated and answering.
func (a *App) clickhouseReady(ctx context.Context) error {
	if err := a.schema.ready(); err != nil {
		return err
	}
	return a.Backend.Ping(ctx)
}

// Addr is the address the server listens on.
func (a *App) Addr() string { return a.ln.Addr().String() }

// Done reports a fatal serve error.
func (a *App) Done() <-chan error { return a.serveErr }

// WaitDrained waits until the ClickHouse writer has consumed the whole spool.
func (a *App) WaitDrained(ctx context.Context) error {
	for a.Reader.Backlog() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("clickhouse writer backlog %d bytes: %w", a.Reader.Backlog(), ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// Shutdown stops accepting, finishes in-flight requests, lets the writer drain
// for what is left of timeout, and closes everything. What the writer could not
// insert stays in the spool for the next start.
func (a *App) Shutdown(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	done := make(chan error, 1)
	go func() { done <- a.Server.Shutdown() }()
	select {
	case err := <-done:
		if err != nil {
			a.Logger.Warn("http shutdown", "err", err)
		}
	case <-time.After(time.Until(deadline)):
		a.Logger.Warn("in-flight requests did not finish before the shutdown timeout")
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	_ = a.WaitDrained(ctx)
	cancel()
	backlog := a.Reader.Backlog()
	a.closeDeps()
	a.Logger.Info("stopped", "spool_backlog_bytes", backlog)
	return nil
}

func (a *App) closeDeps() {
	a.closeOnce.Do(func() {
		if a.ln != nil && a.serveErr == nil {
			a.ln.Close() // taken, never handed to the server
		}
		if a.pprof != nil {
			a.pprof.Close()
		}
		if a.Conversions != nil {
			a.Conversions.stop()
		}
		if a.HandOff != nil {
			a.HandOff.stop()
		}
		if a.Mirror != nil {
			a.Mirror.stop()
		}
		a.pacing.stop()
		if a.stopWriter != nil {
			a.stopWriter()
			if err := <-a.writerDone; err != nil && !errors.Is(err, context.Canceled) {
				a.Logger.Warn("clickhouse writer", "err", err)
			}
		}
		if a.Ingest != nil {
			a.Ingest.Close()
		}
		if a.Store != nil {
			a.Store.Close()
		}
		if a.Backend != nil {
			a.Backend.Close()
		}
		if a.Spool != nil {
			a.Spool.Close()
		}
	})
}

// spoolCommitBuckets span a group commit's write and fsync: tens of
// microseconds on a fast SSD, milliseconds on a network disk.
var spoolCommitBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}

func (a *App) registerPipelineMetrics(set *metrics.Set) {
	set.NewGauge("hogsend_spool_bytes", func() float64 { return float64(a.Spool.Bytes()) })
	set.NewGauge("hogsend_spool_max_bytes", func() float64 { return float64(a.Config.SpoolMaxBytes) })
	spoolDir := filepath.Join(a.Config.DataDir, "spool")
	set.NewGauge("hogsend_spool_disk_free_bytes", func() float64 { return diskFreeBytes(spoolDir) })
	set.NewGauge("hogsend_spool_appends_total", func() float64 { return float64(a.Spool.Stats().Appends) })
	set.NewGauge("hogsend_spool_fsyncs_total", func() float64 { return float64(a.Spool.Stats().Syncs) })
	commits := set.NewPrometheusHistogramExt("hogsend_spool_commit_seconds", spoolCommitBuckets)
	a.Spool.ObserveCommits(func(d time.Duration) { commits.Update(d.Seconds()) })
	set.NewGauge(`hogsend_spool_backlog_bytes{consumer="clickhouse"}`, func() float64 { return float64(a.Reader.Backlog()) })
	set.NewGauge("hogsend_clickhouse_insert_batches_total", func() float64 { return float64(a.Writer.Batches()) })
	set.NewGauge("hogsend_clickhouse_insert_rows_total", func() float64 { return float64(a.Writer.Rows()) })
	set.NewGauge("hogsend_clickhouse_insert_errors_total", func() float64 { return float64(a.Writer.Errors()) })
	set.NewGauge("hogsend_clickhouse_dead_lettered_total", func() float64 { return float64(a.Writer.DeadLettered()) })
}

// captureTrust is what capture's credentials prove (docs/identity-trust.md).
func captureTrust(cfg config.Config) ingest.CaptureTrust {
	return ingest.CaptureTrust{
		SecretTokens:    cfg.PostHogSecretTokens,
		Verified:        cfg.PostHogIdentity == "verified",
		UserTokenSecret: cfg.UserTokenSecret,
	}
}

func tokenSet(tokens []string) map[string]bool {
	if len(tokens) == 0 {
		return nil
	}
	m := make(map[string]bool, len(tokens))
	for _, t := range tokens {
		m[t] = true
	}
	return m
}

// spoolReady reports a spool that cannot take appends: broken by an IO
// error, or refusing them for room (its byte cap, a full disk) moments ago,
// so that a load balancer sends the requests to an instance that can.
func (a *App) spoolReady(context.Context) error {
	if err := a.Spool.Healthy(); err != nil {
		return err
	}
	return a.Spool.Full(time.Now())
}

// openUpstream is the Hogsend engine of HOGSEND_UPSTREAM_URL; nil without one.
func openUpstream(cfg config.Config) (*proxy.Upstream, error) {
	if cfg.UpstreamURL == "" {
		return nil, nil
	}
	up, err := proxy.NewUpstream(proxy.UpstreamOptions{URL: cfg.UpstreamURL, Timeout: cfg.UpstreamTimeout})
	if err != nil {
		return nil, fmt.Errorf("HOGSEND_UPSTREAM_URL: %w", err)
	}
	return up, nil
}
