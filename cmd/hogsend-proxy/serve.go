package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/hogsend/hogsend-proxy/config"
	"github.com/hogsend/hogsend-proxy/internal/app"
)

// loadConfig reads the configuration, and sends go-redis's messages and the
// standard log package's (libraries' log.Printf) to the configured log, so
// that HOGSEND_LOG_FORMAT=json writes nothing but JSON lines.
func loadConfig() (config.Config, error) {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	logger := app.NewLogger(cfg.LogLevel, cfg.LogFormat)
	redis.SetLogger(redisLog{logger})
	slog.SetDefault(logger)
	return cfg, nil
}

func runServe(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", args)
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log := app.NewLogger(cfg.LogLevel, cfg.LogFormat)
	setMemoryLimit(cfg.MemoryLimit)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	a, err := app.Start(ctx, cfg, log, version)
	if err != nil {
		return err
	}
	select {
	case err := <-a.Done():
		a.Shutdown(cfg.ShutdownTimeout)
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	return a.Shutdown(cfg.ShutdownTimeout)
}

// setMemoryLimit makes the collector work harder as the heap nears limit,
// whatever GOGC lets it grow to (docs/operations.md § Memory).
// GOMEMLIMIT in the environment wins, as the runtime reads it itself.
func setMemoryLimit(limit int64) {
	if limit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	}
}
