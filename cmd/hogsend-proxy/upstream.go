package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/app"
	"github.com/hogsend/hogsend-proxy/sinks/engine"
)

// runUpstream handles `upstream replay`: the hand-off's dead letters sent to
// the engine again (docs/upstream.md § 3.4).
func runUpstream(args []string) error {
	if len(args) != 1 || args[0] != "replay" {
		return fmt.Errorf("upstream: want a subcommand: replay")
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if !cfg.HandOff() {
		return fmt.Errorf("upstream replay: HOGSEND_UPSTREAM_URL and HOGSEND_UPSTREAM_API_KEY must name the engine and its key")
	}
	client, err := engine.NewClient(engine.ClientOptions{URL: cfg.UpstreamURL, APIKey: cfg.UpstreamAPIKey, Timeout: cfg.UpstreamTimeout})
	if err != nil {
		return fmt.Errorf("HOGSEND_UPSTREAM_URL: %w", err)
	}
	ctx := context.Background()
	backend, err := app.OpenMigrated(ctx, &cfg)
	if err != nil {
		return err
	}
	defer backend.Close()
	res, err := engine.Replay(ctx, client, backend, time.Now)
	fmt.Printf("hogsend engine: %d replayed, %d delivered, %d refused again\n", res.Replayed, res.Delivered, res.Refused)
	if err != nil {
		return fmt.Errorf("upstream replay: %w", err)
	}
	return nil
}
