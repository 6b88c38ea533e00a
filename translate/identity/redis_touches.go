package identity

import (
	"context"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"
)

// touchBatch is the last ops of one Resolve call when they are all touches:
// they share one call of lua/touches.lua, queued after the call's other
// commands, so that Redis sets a script up once for all of them instead of
// once per op. Nothing in the call runs after them, and the script stops at
// the first stale copy, so the ops still apply in call order.
type touchBatch struct {
	ops  []int // indexes into the call's ops, in call order
	slot [1]*redis.Cmd
}

// chooseBatch batches the touches that end the call: it walks back from the
// last op to the first one that resolves in full. Claim-only ops and ops
// that failed their checks run no script and do not end the run.
func (rc *resolveCall) chooseBatch() {
	for i := len(rc.ops) - 1; i >= 0; i-- {
		if rc.results[i].Err != nil || rc.ops[i].ClaimOnly {
			continue
		}
		plan := &rc.plans[i]
		if !plan.ready {
			break
		}
		plan.batched = true
		rc.batch.ops = append(rc.batch.ops, i)
	}
	slices.Reverse(rc.batch.ops)
}

// queue adds the batch's script call to pipe. ARGV layout in lua/touches.lua.
func (b *touchBatch) queue(ctx context.Context, pipe redis.Pipeliner, r *Redis, rc *resolveCall) {
	if len(b.ops) == 0 {
		return
	}
	t := textArgs{buf: make([]byte, 0, 128*len(b.ops)), ends: make([]int, 0, 10*len(b.ops))}
	for _, i := range b.ops {
		rc.plans[i].addChecks(&t, &rc.preps[i], rc.nows[i], true)
	}
	args := t.appendTo(append(make([]any, 0, 1+len(t.ends)), r.graph))
	b.slot[0] = pipe.EvalSha(ctx, scriptTouches.sha, r.graphKeys(), args...)
}

// cmds is the batch's script command, in a slice retryNoScript may replace
// it in.
func (b *touchBatch) cmds() []*redis.Cmd {
	if b.slot[0] == nil {
		return nil
	}
	return b.slot[:]
}

// settleBatch fills the results of the batched ops the script touched, and
// resolves the rest in order: the first in full, its copy being stale, and
// those after it as they would have been without the batch.
func (r *Redis) settleBatch(ctx context.Context, rc *resolveCall) error {
	cmd := rc.batch.slot[0]
	if cmd == nil {
		return nil
	}
	v, err := cmd.Result()
	if err != nil {
		if !isReplyError(err) {
			return unavailable("touches", err)
		}
		// As for a resolve: an error reply spoils these ops only.
		for _, i := range rc.batch.ops {
			rc.results[i].Err = unavailable("touches", err)
		}
		return nil
	}
	n, top, err := touchesReply(v, len(rc.batch.ops))
	if err != nil {
		return unavailable("touches", err)
	}
	for k, i := range rc.batch.ops[:n] {
		r.touches.Add(1)
		touched(&rc.plans[i], top-uint64(n)+1+uint64(k), rc.nows[i], &rc.results[i])
	}
	rest := rc.batch.ops[n:]
	if len(rest) == 0 {
		return nil
	}
	r.touches.Add(1)
	r.staleCopy(&rc.plans[rest[0]], &rc.preps[rest[0]])
	return r.resolveRest(ctx, rc, rest)
}

// touchesReply reads lua/touches.lua's reply {n, top} to a batch of sent
// touches: the first n were touched, the last of them to version top.
func touchesReply(v any, sent int) (int, uint64, error) {
	a := asSlice(v)
	if len(a) != 2 {
		return 0, 0, fmt.Errorf("touches reply %v", v)
	}
	n, okN := a[0].(int64)
	top, okTop := a[1].(int64)
	if !okN || !okTop || n < 0 || n > int64(sent) || n > 0 && top < n {
		return 0, 0, fmt.Errorf("touches reply %v for %d touches", v, sent)
	}
	return int(n), uint64(top), nil
}

// resolveRest resolves ops in order in a second round trip: each with its
// touch first, when it still has one, else in full.
func (r *Redis) resolveRest(ctx context.Context, rc *resolveCall, ops []int) error {
	pipe := r.c.Pipeline()
	cmds := make([]*redis.Cmd, len(ops))
	for k, i := range ops {
		cmds[k] = r.queueResolve(ctx, pipe, rc, i)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		if err := retryNoScript(ctx, r.c, cmds); err != nil {
			return err
		}
	}
	for k, i := range ops {
		if err := r.settleResolve(cmds[k], rc, i); err != nil {
			return err
		}
	}
	return nil
}
