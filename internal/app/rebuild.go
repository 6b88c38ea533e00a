package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hogsend/hogsend-proxy/config"
	"github.com/hogsend/hogsend-proxy/sinks/clickhouse"
	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// RebuildStats reports what RebuildIdentity restored.
type RebuildStats struct {
	Contacts, Aliases, APIKeys, IdempotencyKeys, SpoolEntries int
}

// RebuildIdentity restores the Redis identity index from ClickHouse (and the
// spool entries not yet inserted), after Redis lost its data. It takes the
// data directory's spool lock, so the proxy must be stopped while it runs.
// With flush, the store's existing keys are removed first, so that state the
// snapshot does not know about (say, a half-restored index) cannot survive.
func RebuildIdentity(ctx context.Context, cfg config.Config, log *slog.Logger, flush bool) (RebuildStats, error) {
	var st RebuildStats
	if cfg.RedisURL == "" {
		return st, errors.New("rebuild-identity restores Redis: set HOGSEND_REDIS_URL and HOGSEND_CLICKHOUSE_URL (the embedded mode rebuilds itself on start)")
	}
	sp, err := OpenSpool(&cfg, log)
	if err != nil {
		return st, fmt.Errorf("%w (stop hogsend-proxy on this data directory first)", err)
	}
	defer sp.Close()
	r, err := sp.Reader("clickhouse")
	if err != nil {
		return st, fmt.Errorf("open spool reader: %w", err)
	}
	backend, err := OpenBackend(ctx, &cfg)
	if err != nil {
		return st, err
	}
	defer backend.Close()
	// A Redis in the key layout before hash tags is what this command
	// upgrades (docs/redis-cluster.md § 4), so it may open one.
	store, err := OpenStore(ctx, &cfg, identity.WithOldLayout())
	if err != nil {
		return st, err
	}
	defer store.Close()
	if flush {
		if err := flushRedis(ctx, store); err != nil {
			return st, err
		}
	}
	snap, n, err := loadIdentity(ctx, &cfg, backend, r)
	if err != nil {
		return st, err
	}
	if err := store.Restore(ctx, snap); err != nil {
		return st, fmt.Errorf("restore redis: %w", err)
	}
	return RebuildStats{
		Contacts: len(snap.Contacts), Aliases: len(snap.Aliases), APIKeys: len(snap.APIKeys),
		IdempotencyKeys: len(snap.Idempotency), SpoolEntries: n,
	}, nil
}

// flushRedis removes the identity store's keys (its prefix only; other data
// in the same Redis database is left alone).
func flushRedis(ctx context.Context, store identity.Store) error {
	rs, ok := store.(*identity.Redis)
	if !ok {
		return nil
	}
	return rs.Flush(ctx)
}

// restoreIdentity loads identity state into store from ClickHouse plus the
// spool entries ClickHouse has not received yet: contacts, aliases, API keys,
// and the idempotency keys of events received within the window. The reader
// is rewound afterwards, so the writer still inserts those entries. It
// returns the number of spool entries replayed.
func restoreIdentity(ctx context.Context, cfg *config.Config, store identity.Restorer, backend clickhouse.Backend, r *spool.Reader) (int, error) {
	snap, n, err := loadIdentity(ctx, cfg, backend, r)
	if err != nil {
		return 0, err
	}
	if err := store.Restore(ctx, snap); err != nil {
		return 0, fmt.Errorf("restore identity store: %w", err)
	}
	return n, nil
}

// loadIdentity reads the snapshot from ClickHouse and adds the records of the
// spool entries after the reader's cursor.
func loadIdentity(ctx context.Context, cfg *config.Config, backend clickhouse.Backend, r *spool.Reader) (canonical.Snapshot, int, error) {
	now := time.Now()
	snap, err := backend.LoadSnapshot(ctx, now.Add(-cfg.IdempotencyWindow).UnixMilli(), cfg.IdempotencyWindow)
	if err != nil {
		return snap, 0, fmt.Errorf("load identity snapshot: %w", err)
	}
	pending, err := replaySpool(ctx, r, func(b *canonical.Batch) {
		snap.Contacts = append(snap.Contacts, cloneContacts(b.Contacts)...)
		snap.Aliases = append(snap.Aliases, b.Aliases...)
		snap.APIKeys = append(snap.APIKeys, b.APIKeys...)
		for _, ev := range b.Events {
			if ev.IdempotencyKey != "" && ev.ReceivedAt+cfg.IdempotencyWindow.Milliseconds() > now.UnixMilli() {
				snap.Idempotency = append(snap.Idempotency, canonical.IdempotencyClaim{
					Key: ev.IdempotencyKey, ExpiresAt: ev.ReceivedAt + cfg.IdempotencyWindow.Milliseconds(),
				})
			}
		}
	})
	if err != nil {
		return snap, 0, err
	}
	return snap, pending, nil
}

// replaySpool decodes each spool entry after r's cursor and passes it to fn,
// then rewinds r so that its consumer still reads them. It returns the
// number of entries.
func replaySpool(ctx context.Context, r *spool.Reader, fn func(*canonical.Batch)) (int, error) {
	defer r.Rewind()
	n := 0
	var b canonical.Batch
	var buf []spool.Entry
	for r.Backlog() > 0 {
		rctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		entries, err := r.Next(rctx, 1024, buf[:0])
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				break
			}
			return n, fmt.Errorf("replay spool: %w", err)
		}
		buf = entries
		for _, e := range entries {
			if err := canonical.DecodeBatch(e.Data, &b); err != nil {
				return n, fmt.Errorf("replay spool entry at %v: %w", e.Pos, err)
			}
			n++
			fn(&b)
		}
		if len(entries) == 0 {
			break
		}
	}
	return n, nil
}
