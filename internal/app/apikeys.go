package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hogsend/hogsend-proxy/sinks/clickhouse"
	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// StoredAPIKeys lists the API keys of a data directory whose service is
// stopped (the caller holds its spool): ClickHouse's rows plus those of the
// spool entries not inserted yet, the latest state of each key. The reader
// is left where it was, so the writer still inserts those entries.
func StoredAPIKeys(ctx context.Context, backend clickhouse.Backend, sp *spool.Spool) ([]canonical.APIKey, error) {
	keys, err := backend.LoadAPIKeys(ctx)
	if err != nil {
		return nil, err
	}
	r, err := sp.Reader("clickhouse")
	if err != nil {
		return nil, fmt.Errorf("open spool reader: %w", err)
	}
	defer r.Close()
	pending, err := spoolAPIKeys(ctx, r)
	if err != nil {
		return nil, err
	}
	return latestAPIKeys(append(keys, pending...)), nil
}

// spoolAPIKeys reads the API key rows of the entries after r's cursor.
func spoolAPIKeys(ctx context.Context, r *spool.Reader) ([]canonical.APIKey, error) {
	defer r.Rewind()
	var keys []canonical.APIKey
	var b canonical.Batch
	var buf []spool.Entry
	for r.Backlog() > 0 {
		rctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		entries, err := r.Next(rctx, 1024, buf[:0])
		cancel()
		if errors.Is(err, context.DeadlineExceeded) || len(entries) == 0 {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read spool: %w", err)
		}
		buf = entries
		for _, e := range entries {
			if err := canonical.DecodeBatch(e.Data, &b); err != nil {
				return nil, fmt.Errorf("read spool entry at %v: %w", e.Pos, err)
			}
			keys = append(keys, b.APIKeys...)
		}
	}
	return keys, nil
}

// latestAPIKeys keeps one row per key: the latest change (creation or
// revocation), the later row on a tie, as the stores' Restore does.
func latestAPIKeys(rows []canonical.APIKey) []canonical.APIKey {
	at := make(map[string]int, len(rows))
	var out []canonical.APIKey
	for _, k := range rows {
		i, seen := at[k.Hash]
		switch {
		case !seen:
			at[k.Hash] = len(out)
			out = append(out, k)
		case max(k.CreatedAt, k.RevokedAt) >= max(out[i].CreatedAt, out[i].RevokedAt):
			out[i] = k
		}
	}
	return out
}
