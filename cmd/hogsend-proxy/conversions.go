package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/internal/app"
)

// runConversions handles `conversions replay [--destination D]`.
func runConversions(args []string) error {
	if len(args) == 0 || args[0] != "replay" {
		return fmt.Errorf("conversions: want a subcommand: replay [--destination D]")
	}
	fs := flag.NewFlagSet("conversions replay", flag.ContinueOnError)
	only := fs.String("destination", "", "replay only this destination's dead letters (default: all)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	settings, err := app.LoadConversions(&cfg)
	if err != nil {
		return err
	}
	if len(settings.Destinations) == 0 {
		return fmt.Errorf("conversions replay: no destinations configured")
	}
	var dests []conversions.Destination
	var names []string
	for _, d := range settings.Destinations {
		names = append(names, d.Name())
		if *only == "" || d.Name() == *only {
			dests = append(dests, d)
		}
	}
	if len(dests) == 0 {
		return fmt.Errorf("conversions replay: --destination %q is not configured (configured: %s)", *only, strings.Join(names, ", "))
	}
	ctx := context.Background()
	backend, err := app.OpenMigrated(ctx, &cfg)
	if err != nil {
		return err
	}
	defer backend.Close()
	log := app.NewLogger(cfg.LogLevel, cfg.LogFormat)
	history := conversions.NewHistory(backend.InsertDispatches, log)
	opts := settings.Dispatch
	opts.Logger = log
	failed := false
	for _, d := range dests {
		letters, err := backend.LoadConversionDeadLetters(ctx, d.Name())
		if err != nil {
			return err
		}
		dir, err := os.MkdirTemp("", "hogsend-replay-")
		if err != nil {
			return err
		}
		res, err := conversions.Replay(ctx, d, letters, backend, history, opts, dir)
		fmt.Printf("%s: %d replayed, %d delivered, %d refused again, %d deferred by the platform, %d undecodable\n",
			d.Name(), res.Replayed, res.Delivered, res.Failed, res.Deferred, res.Undecodable)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", d.Name(), err)
			failed = true
		}
	}
	if err := history.Flush(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "conversion history not written: %v\n", err)
	}
	if failed {
		return fmt.Errorf("conversions replay: not every destination finished")
	}
	return nil
}
