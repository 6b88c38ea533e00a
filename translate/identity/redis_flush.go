package identity

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Flush removes every key under the store's prefix (other data in the same
// Redis is left alone), graph and claims alike, on every master of a cluster.
func (r *Redis) Flush(ctx context.Context) error {
	if r.cache != nil {
		r.cache.clear()
	}
	if cc, ok := r.c.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			return flushPrefix(ctx, m, r.prefix)
		})
	}
	return flushPrefix(ctx, r.c, r.prefix)
}

// flushPrefix unlinks the keys of one server that match prefix, a thousand
// at a time. UNLINK of one key at a time keeps it valid on a cluster node,
// whose keys are in many slots.
func flushPrefix(ctx context.Context, c redis.Cmdable, prefix string) error {
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	p := c.Pipeline()
	for iter.Next(ctx) {
		p.Unlink(ctx, iter.Val())
		if p.Len() == 1000 {
			if _, err := p.Exec(ctx); err != nil {
				return fmt.Errorf("flush redis: %w", err)
			}
		}
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("flush redis: %w", err)
	}
	if p.Len() == 0 {
		return nil
	}
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("flush redis: %w", err)
	}
	return nil
}
