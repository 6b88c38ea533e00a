package main

import (
	"context"
	"fmt"
	"os"

	"github.com/hogsend/hogsend-proxy/config"
	"github.com/hogsend/hogsend-proxy/internal/app"
	"github.com/hogsend/hogsend-proxy/sinks/clickhouse"
	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// keyBook is where the keys commands read and write API keys.
type keyBook interface {
	// List returns every key, revoked and expired ones too.
	List(ctx context.Context) ([]canonical.APIKey, error)
	// Put stores a key row durably, where the service and rebuild-identity
	// read it.
	Put(ctx context.Context, k canonical.APIKey) error
	Close()
}

var (
	_ keyBook = (*serverKeys)(nil)
	_ keyBook = (*embeddedKeys)(nil)
)

func openKeyBook(ctx context.Context, cfg *config.Config) (keyBook, error) {
	if cfg.Embedded() {
		return openEmbeddedKeys(cfg)
	}
	return openServerKeys(ctx, cfg)
}

// serverKeys are the keys of a server deployment: Redis (what the running
// service reads) and ClickHouse (what rebuild-identity restores from). It
// works while the service runs.
type serverKeys struct {
	store   identity.Store
	backend clickhouse.Backend
}

func openServerKeys(ctx context.Context, cfg *config.Config) (*serverKeys, error) {
	store, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	backend, err := app.OpenBackend(ctx, cfg)
	if err != nil {
		store.Close()
		return nil, err
	}
	if err := backend.Migrate(ctx); err != nil {
		store.Close()
		backend.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return &serverKeys{store: store, backend: backend}, nil
}

func (s *serverKeys) List(ctx context.Context) ([]canonical.APIKey, error) {
	keys, err := s.store.APIKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list keys in redis: %w", err)
	}
	return keys, nil
}

func (s *serverKeys) Put(ctx context.Context, k canonical.APIKey) error {
	if err := s.backend.InsertAPIKeys(ctx, []canonical.APIKey{k}); err != nil {
		return fmt.Errorf("store key in clickhouse: %w", err)
	}
	if err := s.store.PutAPIKey(ctx, k); err != nil {
		return fmt.Errorf("store key in redis: %w", err)
	}
	return nil
}

func (s *serverKeys) Close() {
	s.store.Close()
	s.backend.Close()
}

// embeddedKeys are the keys of a stopped embedded deployment. A key is put
// into the spool: the spool's lock keeps this from racing a running server,
// and the next start loads it into the store and drains it to the embedded
// tables. Listing also reads those tables, opened on first use.
type embeddedKeys struct {
	cfg     *config.Config
	sp      *spool.Spool
	backend clickhouse.Backend
}

func openEmbeddedKeys(cfg *config.Config) (*embeddedKeys, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("HOGSEND_DATA_DIR: %w", err)
	}
	sp, err := app.OpenSpool(cfg, app.NewLogger("warn", cfg.LogFormat))
	if err != nil {
		return nil, fmt.Errorf("%w (is hogsend-proxy serving on this data directory? stop it, or use the /v1/admin/api-keys routes)", err)
	}
	return &embeddedKeys{cfg: cfg, sp: sp}, nil
}

func (e *embeddedKeys) List(ctx context.Context) ([]canonical.APIKey, error) {
	if e.backend == nil {
		b, err := app.OpenBackend(ctx, e.cfg)
		if err != nil {
			return nil, err
		}
		e.backend = b
		if err := b.Migrate(ctx); err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
	}
	return app.StoredAPIKeys(ctx, e.backend, e.sp)
}

func (e *embeddedKeys) Put(ctx context.Context, k canonical.APIKey) error {
	payload := canonical.AppendBatch(nil, &canonical.Batch{APIKeys: []canonical.APIKey{k}})
	if _, err := e.sp.Append(ctx, payload); err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	return nil
}

func (e *embeddedKeys) Close() {
	if e.backend != nil {
		e.backend.Close()
	}
	e.sp.Close()
}
