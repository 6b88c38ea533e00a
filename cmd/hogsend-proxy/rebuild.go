package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/hogsend/hogsend-proxy/internal/app"
)

// runRebuildIdentity restores Redis (aliases, contact state, API keys,
// idempotency keys of the window) from ClickHouse after Redis lost its data.
func runRebuildIdentity(args []string) error {
	fs := flag.NewFlagSet("rebuild-identity", flag.ContinueOnError)
	flush := fs.Bool("flush", false, "delete the identity keys already in Redis first")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	st, err := app.RebuildIdentity(context.Background(), cfg, app.NewLogger(cfg.LogLevel, cfg.LogFormat), *flush)
	if err != nil {
		return fmt.Errorf("rebuild-identity: %w", err)
	}
	fmt.Printf("restored %d contacts, %d aliases, %d API keys, %d idempotency keys (%d spool entries not yet in ClickHouse)\n",
		st.Contacts, st.Aliases, st.APIKeys, st.IdempotencyKeys, st.SpoolEntries)
	return nil
}
