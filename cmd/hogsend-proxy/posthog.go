package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/app"
	"github.com/hogsend/hogsend-proxy/sinks/posthog"
)

// runPostHog handles `posthog replay`: the mirror's dead letters sent to
// the PostHog project again (docs/posthog-upstream.md § 1.4).
func runPostHog(args []string) error {
	if len(args) == 0 || args[0] != "replay" {
		return fmt.Errorf("posthog: want a subcommand: replay [--timeout 5m]")
	}
	fs := flag.NewFlagSet("posthog replay", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long (PostHog away): what is not sent stays dead-lettered")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if cfg.PostHogUpstreamURL == "" {
		return fmt.Errorf("posthog replay: HOGSEND_POSTHOG_UPSTREAM_URL must name the PostHog project")
	}
	client, err := posthog.NewClient(posthog.ClientOptions{URL: cfg.PostHogUpstreamURL, Timeout: cfg.PostHogTimeout})
	if err != nil {
		return fmt.Errorf("HOGSEND_POSTHOG_UPSTREAM_URL: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	backend, err := app.OpenMigrated(ctx, &cfg)
	if err != nil {
		return err
	}
	defer backend.Close()
	res, err := posthog.Replay(ctx, client, backend, app.NewLogger(cfg.LogLevel, cfg.LogFormat), time.Now)
	fmt.Printf("posthog: %d replayed, %d delivered, %d refused again\n", res.Replayed, res.Delivered, res.Refused)
	if err != nil {
		return fmt.Errorf("posthog replay: %w", err)
	}
	return nil
}
