// Command hogsend-proxy serves the Hogsend data API and PostHog capture at the
// edge of a Hogsend deployment. Subcommands: serve (default), migrate, keys,
// rebuild-identity, conversions replay, upstream replay, posthog replay,
// drain, version.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/google/uuid"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `usage: hogsend-proxy [command]

commands:
  serve                       serve HTTP (the default)
  migrate                     create or upgrade the ClickHouse tables
  keys create --name N --scopes ingest[,read,…] [--expires 720h]
                              mint an API key; prints it once, stores only its SHA-256
  keys list                   list API keys: id, prefix, name, scopes, created, expires, revoked
  keys revoke <id|prefix>     revoke an API key (instances refuse it within 60 s)
  rebuild-identity [--flush]  restore Redis from ClickHouse after Redis lost its data
                              (stop serve first: it replays the spool too)
  conversions replay [--destination D]
                              re-send dead-lettered conversions with their original dedup ids
  upstream replay             re-send to the Hogsend engine the records it refused
                              (engine_dead_letters), with their idempotency keys
  posthog replay [--timeout 5m]
                              re-send to the PostHog project the events it refused
                              (posthog_dead_letters), with their uuids
  drain --data-dir DIR [--timeout 10m]
                              deliver what a proxy that is gone for good left in its data
                              directory (spool, conversion queues) to ClickHouse and every
                              configured destination, then exit; server mode only
  version                     print the version

configuration comes from HOGSEND_* environment variables and the YAML file
named by HOGSEND_CONFIG; see README.md.
`

func main() {
	// Event and contact ids (UUIDv7) come from a pooled random buffer
	// instead of one crypto/rand read and allocation each.
	uuid.EnableRandPool()
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = runServe(args)
	case "migrate":
		err = runMigrate(args)
	case "keys":
		err = runKeys(args)
	case "rebuild-identity":
		err = runRebuildIdentity(args)
	case "conversions":
		err = runConversions(args)
	case "upstream":
		err = runUpstream(args)
	case "posthog":
		err = runPostHog(args)
	case "drain":
		err = runDrain(args)
	case "version", "--version", "-v":
		fmt.Println("hogsend-proxy", version)
	case "help", "--help", "-h":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "hogsend-proxy: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "hogsend-proxy: %s\n", oneLine(err.Error()))
		os.Exit(1)
	}
}

// oneLine folds a multi-line error (a ClickHouse exception carries its
// server's stack) into the single line a failed command prints.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
