package identity

import (
	"context"
	"errors"
	"net"

	"github.com/redis/go-redis/v9"
)

// reloadOnFailure is a ClusterClient hook: a call that fails without an
// answer (a node gone) reloads the slot map at once. go-redis reloads it by
// itself only on MOVED or after ClusterStateReloadInterval (a minute), so
// without this the store would keep calling a killed master for up to a
// minute after its replica took over (docs/redis-cluster.md § 3).
type reloadOnFailure struct{ c *redis.ClusterClient }

func (h reloadOnFailure) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		cn, err := next(ctx, network, addr)
		if err != nil {
			h.c.ReloadState(ctx)
		}
		return cn, err
	}
}

func (h reloadOnFailure) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.check(ctx, err)
		return err
	}
}

func (h reloadOnFailure) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			h.check(ctx, cmd.Err())
		}
		return err
	}
}

// check reloads after a failure that is not an answer from Redis.
func (h reloadOnFailure) check(ctx context.Context, err error) {
	if err == nil || err == redis.Nil || isReplyError(err) || errors.Is(err, context.Canceled) {
		return
	}
	h.c.ReloadState(ctx)
}
