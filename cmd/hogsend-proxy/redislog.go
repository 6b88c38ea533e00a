package main

import (
	"context"
	"fmt"
	"log/slog"
)

// redisLog takes go-redis's own messages (a line per failed dial while Redis
// is down) into the service log at debug level: readiness, the warning at
// start and the 503s already report an unreachable Redis, once each.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "redis")
}
