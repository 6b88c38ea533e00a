package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/config"
	"github.com/hogsend/hogsend-proxy/internal/app"
	"github.com/hogsend/hogsend-proxy/translate"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

func runKeys(args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: hogsend-proxy keys create --name N --scopes ingest[,read,…] [--expires 720h] [--publishable-origins https://app.example]")
	}
	fs := flag.NewFlagSet("keys create", flag.ContinueOnError)
	name := fs.String("name", "", "a name for the key (1-100 characters)")
	scopes := fs.String("scopes", "ingest", "comma-separated scopes: ingest, read, journey-admin, full-admin, accounts, referrals")
	expires := fs.Duration("expires", 0, "lifetime of the key; 0 = never expires")
	origins := fs.String("publishable-origins", "", "comma-separated origins: mint a publishable pk_ browser key for them instead of a secret key")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *name == "" || len(*name) > 100 {
		return errors.New("keys create: --name must be 1 to 100 characters")
	}
	var list []string
	for _, s := range strings.Split(*scopes, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !translate.IsSecretScope(s) {
			return fmt.Errorf("keys create: unknown scope %q", s)
		}
		list = append(list, s)
	}
	if len(list) == 0 {
		return errors.New("keys create: --scopes must name at least one scope")
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	now := time.Now()
	var expiresAt int64
	if *expires > 0 {
		expiresAt = now.Add(*expires).UnixMilli()
	}
	var allowed []string
	if *origins != "" {
		for _, o := range strings.Split(*origins, ",") {
			if o = strings.TrimSpace(o); o != "" {
				allowed = append(allowed, o)
			}
		}
		// The check POST /v1/admin/api-keys makes.
		if err := translate.CheckOrigins(allowed); err != nil {
			return fmt.Errorf("keys create: --publishable-origins: %w", err)
		}
		if len(allowed) == 0 {
			return errors.New("keys create: --publishable-origins must name at least one origin")
		}
		// A publishable key is a browser key: ingest-public only.
		list = []string{"ingest-public"}
	}
	key, rec, err := translate.NewAPIKey(*name, list, expiresAt, now.UnixMilli(), allowed)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if cfg.Embedded() {
		err = storeKeyEmbedded(&cfg, rec)
	} else {
		err = storeKeyServer(ctx, &cfg, rec)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "created key %q (%s) with scopes %s; it is shown once:\n", rec.Name, rec.Prefix, strings.Join(rec.Scopes, ","))
	fmt.Println(key)
	return nil
}

// storeKeyEmbedded appends the key to the spool: the spool's lock keeps this
// from racing a running server, and the next start loads it into the store
// and drains it to the embedded tables.
func storeKeyEmbedded(cfg *config.Config, rec canonical.APIKey) error {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("HOGSEND_DATA_DIR: %w", err)
	}
	sp, err := app.OpenSpool(cfg, app.NewLogger("warn"))
	if err != nil {
		return fmt.Errorf("%w (is hogsend-proxy serving on this data directory? stop it, or mint keys with POST /v1/admin/api-keys)", err)
	}
	defer sp.Close()
	payload := canonical.AppendBatch(nil, &canonical.Batch{APIKeys: []canonical.APIKey{rec}})
	if _, err := sp.Append(context.Background(), payload); err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	return nil
}

// storeKeyServer writes the key to Redis (what the running service reads) and
// to ClickHouse (what rebuild-identity restores from).
func storeKeyServer(ctx context.Context, cfg *config.Config, rec canonical.APIKey) error {
	store, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	backend, err := app.OpenBackend(ctx, cfg)
	if err != nil {
		return err
	}
	defer backend.Close()
	if err := backend.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := backend.InsertAPIKeys(ctx, []canonical.APIKey{rec}); err != nil {
		return fmt.Errorf("store key in clickhouse: %w", err)
	}
	if err := store.PutAPIKey(ctx, rec); err != nil {
		return fmt.Errorf("store key in redis: %w", err)
	}
	return nil
}
