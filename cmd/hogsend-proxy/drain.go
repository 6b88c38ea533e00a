package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/app"
)

// runDrain handles `drain --data-dir DIR`: what a proxy that is gone for
// good left in its data directory, delivered by this host
// (docs/operations.md § Several proxies).
func runDrain(args []string) error {
	fs := flag.NewFlagSet("drain", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "", "the data directory of the proxy that is gone (required)")
	timeout := fs.Duration("timeout", 0, "give up after this long, leaving what is not delivered in place (0: no limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dataDir == "" || fs.NArg() > 0 {
		return fmt.Errorf("drain: want --data-dir DIR")
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	cfg.DataDir = *dataDir
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	log := app.NewLogger(cfg.LogLevel, cfg.LogFormat)
	start := time.Now()
	left, err := app.Drain(ctx, cfg, log, func(l app.DrainLeft) { log.Info("draining", "left", l.String()) })
	if err != nil {
		return err
	}
	fmt.Printf("drained %s in %s; left: %s\n", *dataDir, time.Since(start).Round(time.Millisecond), left)
	return nil
}
