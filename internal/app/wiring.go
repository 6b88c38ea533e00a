package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/hogsend/hogsend-proxy/config"
	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/sinks/clickhouse"
	"github.com/hogsend/hogsend-proxy/sinks/engine"
	"github.com/hogsend/hogsend-proxy/sinks/posthog"
	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// spoolConsumers are the readers whose cursors gate spool segment deletion:
// the ClickHouse writer, the conversions deriver when conversions are
// configured, the hand-off when there is an engine to hand off to, and the
// mirror when there is a PostHog project.
func spoolConsumers(cfg *config.Config) []string {
	names := []string{"clickhouse"}
	if cfg.Conversions != nil {
		names = append(names, conversions.SpoolConsumer)
	}
	if cfg.HandOff() {
		names = append(names, engine.SpoolConsumer)
	}
	if cfg.PostHogUpstreamURL != "" {
		names = append(names, posthog.SpoolConsumer)
	}
	return names
}

// NewLogger returns the service's logger on stderr at level, in format
// "json" (one object a line) or "text" (logfmt).
func NewLogger(level, format string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// chdbLibCandidates are where `make run` and the install script put libchdb.
func locateChDB(cfg *config.Config) error {
	if cfg.ChDBLibPath != "" {
		if _, err := os.Stat(cfg.ChDBLibPath); err != nil {
			return fmt.Errorf("HOGSEND_CHDB_LIB: %w", err)
		}
		return os.Setenv("CHDB_LIB_PATH", cfg.ChDBLibPath)
	}
	if p := os.Getenv("CHDB_LIB_PATH"); p != "" {
		return nil
	}
	candidates := []string{
		".deps/chdb/node_modules/@chdb/lib-linux-x64-gnu/libchdb.so",
		"/usr/local/lib/libchdb.so",
	}
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		candidates = append(candidates,
			filepath.Join(dir, "libchdb.so"),
			filepath.Join(dir, "../.deps/chdb/node_modules/@chdb/lib-linux-x64-gnu/libchdb.so"))
	}
	for _, p := range candidates {
		if _, err := os.Stat(p); err == nil {
			abs, _ := filepath.Abs(p)
			return os.Setenv("CHDB_LIB_PATH", abs)
		}
	}
	return errors.New("embedded mode needs libchdb.so: run `make run` (it installs it), or set HOGSEND_CHDB_LIB, or set HOGSEND_REDIS_URL and HOGSEND_CLICKHOUSE_URL")
}

// OpenBackend opens ClickHouse: the server when configured, else embedded chDB.
func OpenBackend(ctx context.Context, cfg *config.Config) (clickhouse.Backend, error) {
	if cfg.ClickHouseURL != "" {
		b, err := clickhouse.OpenCluster(ctx, cfg.ClickHouseURL, cfg.ClickHouseCluster)
		if err != nil {
			return nil, fmt.Errorf("HOGSEND_CLICKHOUSE_URL: open clickhouse %s: %w", config.RedactURL(cfg.ClickHouseURL), err)
		}
		return b, nil
	}
	if err := locateChDB(cfg); err != nil {
		return nil, err
	}
	b, err := clickhouse.OpenEmbedded(filepath.Join(cfg.DataDir, "clickhouse"))
	if errors.Is(err, clickhouse.ErrNoLibchdb) {
		return nil, fmt.Errorf("HOGSEND_CHDB_LIB: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("open embedded clickhouse under %s: %w", cfg.DataDir, err)
	}
	return b, nil
}

// OpenMigrated is OpenBackend with the tables created or upgraded, for the
// commands that read or write them outside serve.
func OpenMigrated(ctx context.Context, cfg *config.Config) (clickhouse.Backend, error) {
	b, err := OpenBackend(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := b.Migrate(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("migrate clickhouse: %w", err)
	}
	return b, nil
}

// embeddedStartBound bounds opening and migrating the embedded engine at
// start: its calls cannot be interrupted, and a stuck one must end the start
// with a line saying so rather than hang it.
const embeddedStartBound = 2 * time.Minute

// openEmbeddedMigrated opens the embedded engine and migrates it within
// bound.
func openEmbeddedMigrated(ctx context.Context, cfg *config.Config, bound time.Duration) (clickhouse.Backend, error) {
	what := "open and migrate embedded clickhouse under " + cfg.DataDir
	return withinBound(bound, what, func() (clickhouse.Backend, error) { return OpenMigrated(ctx, cfg) })
}

// withinBound runs open, giving up on it after bound. An open still stuck
// then is abandoned: what it opens if it ever returns is closed, and the
// process is expected to exit.
func withinBound(bound time.Duration, what string, open func() (clickhouse.Backend, error)) (clickhouse.Backend, error) {
	type opened struct {
		b   clickhouse.Backend
		err error
	}
	done := make(chan opened, 1)
	go func() {
		b, err := open()
		done <- opened{b, err}
	}()
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case o := <-done:
		return o.b, o.err
	case <-t.C:
		go func() {
			if o := <-done; o.b != nil {
				o.b.Close()
			}
		}()
		return nil, fmt.Errorf("%s: no answer within %s", what, bound)
	}
}

// OpenStore opens Redis when configured, else the in-process store. A Redis
// not reachable yet is no error (see identity.NewRedis).
func OpenStore(ctx context.Context, cfg *config.Config, opts ...identity.RedisOption) (identity.Store, error) {
	if cfg.RedisURL == "" {
		return identity.NewMemory(), nil
	}
	opts = append([]identity.RedisOption{identity.WithContactCache(int(cfg.IdentityCacheBytes))}, opts...)
	s, err := identity.NewRedis(ctx, cfg.RedisURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("HOGSEND_REDIS_URL: open redis %s: %w", config.RedactURL(cfg.RedisURL), err)
	}
	return s, nil
}

// OpenSpool opens the spool under the data directory; its lock keeps a second
// process off it.
func OpenSpool(cfg *config.Config, log *slog.Logger) (*spool.Spool, error) {
	sp, err := spool.Open(spool.Options{
		Dir:       filepath.Join(cfg.DataDir, "spool"),
		MaxBytes:  cfg.SpoolMaxBytes,
		Consumers: spoolConsumers(cfg),
		Logger:    log,
	})
	if err != nil {
		return nil, fmt.Errorf("HOGSEND_DATA_DIR: open spool under %s: %w", cfg.DataDir, err)
	}
	return sp, nil
}

// cloneContacts copies the property bytes, which alias the spool's read buffer.
func cloneContacts(cs []canonical.Contact) []canonical.Contact {
	out := make([]canonical.Contact, len(cs))
	for i, c := range cs {
		c.Properties = append([]byte(nil), c.Properties...)
		out[i] = c
	}
	return out
}
