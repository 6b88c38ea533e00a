package app

import (
	"context"
	"fmt"
	"time"

	"github.com/hogsend/hogsend-proxy/config"
	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// confirmChunk bounds the keys of one confirmation round trip.
const confirmChunk = 1000

// confirmSpooledClaims confirms the idempotency claims of the native events
// in the spool entries r has not committed. A proxy killed between an
// entry's durable write and its claims' confirmation left them pending:
// confirmed now, a client's retry is answered as a duplicate instead of
// being stored again once they expire (docs/operations.md § Several
// proxies). Capture events need none: their id is their uuid. It returns
// the keys confirmed.
func confirmSpooledClaims(ctx context.Context, cfg *config.Config, claims identity.Claims, r *spool.Reader) (int, error) {
	now := time.Now().UnixMilli()
	var keys []string
	_, err := replaySpool(ctx, r, func(b *canonical.Batch) {
		for _, ev := range b.Events {
			if ev.IdempotencyKey != "" && ev.ReceivedAt+cfg.IdempotencyWindow.Milliseconds() > now {
				keys = append(keys, ev.IdempotencyKey)
			}
		}
	})
	if err != nil {
		return 0, err
	}
	for start := 0; start < len(keys); start += confirmChunk {
		chunk := keys[start:min(start+confirmChunk, len(keys))]
		if err := claims.ConfirmIdempotency(ctx, chunk, nil, cfg.IdempotencyWindow); err != nil {
			return start, fmt.Errorf("confirm the idempotency claims of the spool: %w", err)
		}
	}
	return len(keys), nil
}
