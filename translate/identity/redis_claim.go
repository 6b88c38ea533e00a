package identity

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// A Resolve call's idempotency claims: plain commands in its pipeline, each
// on its claim's own key (claim_slot.go), so that on a Redis Cluster claims
// spread over every shard; the few found held are judged by lua/claim.lua,
// one key a run (docs/redis-cluster.md § 2).

// claimBatch is the claims of one Resolve call, sent as plain commands in
// its pipeline, in op order: cheaper for Redis than the same writes issued
// from a script.
type claimBatch struct {
	wall    int64
	claims  []sentClaim
	buckets map[string]bucketExpiry // bucket key → the latest expiry its claims ask for
	// ticketValue is "t"+ticket of the last ticketed claim, built once a call.
	ticketValue, ticketOf string
	slots                 slotMaker // the call's bucket keys, built once a second
	// takenOver is the held claims judged stale and written after all.
	takenOver []sentClaim
}

// sentClaim is one claim sent, for op number op.
type sentClaim struct {
	op   int
	slot claimSlot
	cmd  *redis.Cmd
}

// add claims ops[i]'s key at request time now.
func (c *claimBatch) add(ctx context.Context, pipe redis.Pipeliner, prefix string, ops []ResolveOp, i int, now int64) {
	op := &ops[i]
	slot := c.slots.of(prefix, op.IdempotencyKey)
	var cmd *redis.Cmd
	switch {
	case slot.field != "":
		cmd = pipe.Do(ctx, "hsetnx", slot.key, slot.field, c.value(op, now))
		if c.buckets == nil {
			c.buckets = make(map[string]bucketExpiry, 2)
		}
		c.buckets[slot.key] = c.buckets[slot.key].later(slot.bucketExpiry(c.wall, idempotencyMillis(op)))
	case op.ClaimTicket != "":
		// A ticketed claim is held for the whole window: its expiry is
		// sent as the absolute PXAT that Redis would otherwise rewrite a
		// relative PX into before logging the command to its AOF.
		cmd = pipe.Do(ctx, "set", slot.key, c.value(op, now), "nx", "pxat", c.wall+idempotencyMillis(op))
	default:
		value, ttl := claimValue(op)
		cmd = pipe.Do(ctx, "set", slot.key, value, "nx", "px", ttl)
	}
	c.claims = append(c.claims, sentClaim{op: i, slot: slot, cmd: cmd})
}

// value is a ticketed claim's value, or a bucket claim's (fieldClaimValue).
func (c *claimBatch) value(op *ResolveOp, now int64) string {
	if op.ClaimTicket == "" {
		return fieldClaimValue(op, now)
	}
	if op.ClaimTicket != c.ticketOf {
		c.ticketValue, c.ticketOf = "t"+op.ClaimTicket, op.ClaimTicket
	}
	return c.ticketValue
}

// expireBuckets queues the expiry of each bucket written to (bucketExpiry):
// NX gives a new bucket one, GT extends an older one's.
func expireBuckets(ctx context.Context, pipe redis.Pipeliner, buckets map[string]bucketExpiry) {
	for key, at := range buckets {
		pipe.Do(ctx, "pexpireat", key, at.nx, "nx")
		pipe.Do(ctx, "pexpireat", key, at.gt, "gt")
	}
}

// taken returns the claims found held (duplicate, pending or stale),
// recording a refused write in results, or
// an error when Redis is down.
func (c *claimBatch) taken(results []ResolveResult) ([]sentClaim, error) {
	var taken []sentClaim
	for _, sc := range c.claims {
		var held bool
		var err error
		if sc.slot.field != "" {
			var n int64
			n, err = sc.cmd.Int64()
			held = err == nil && n == 0
		} else {
			err = sc.cmd.Err()
			held = err == redis.Nil
			if held {
				err = nil
			}
		}
		switch {
		case held:
			taken = append(taken, sc)
		case err != nil && !isReplyError(err):
			return nil, unavailable("claim", err)
		case err != nil:
			results[sc.op].Err = unavailable("claim", err)
		}
	}
	return taken, nil
}

// claimValue is the value and TTL (ms) of op's claim: a ticketed claim is held
// for the whole window from the start (its ticket confirms it); another starts
// pending, for at most PendingClaimWindow, and is rewritten when confirmed.
func claimValue(op *ResolveOp) (string, int64) {
	if op.ClaimTicket != "" {
		return "t" + op.ClaimTicket, idempotencyMillis(op)
	}
	return "p", min(idempotencyMillis(op), PendingClaimWindow.Milliseconds())
}

// claimOf is the value of op's claim in slot at request time now, and, as
// lib.lua's claimIdem takes it, its TTL (ms) for a key or its bucket's
// expiry (bucketExpiry from wall) for a field.
func claimOf(op *ResolveOp, slot claimSlot, now, wall int64) (value, ttl string) {
	if slot.field != "" {
		return fieldClaimValue(op, now), slot.bucketExpiry(wall, idempotencyMillis(op)).arg()
	}
	value, ms := claimValue(op)
	return value, strconv.FormatInt(ms, 10)
}

// judgeTaken settles the claims found held: it reads each one's value and
// whether the tickets among them are confirmed (a ticket key lives in a slot
// of its own), then runs lua/claim.lua on each claim's key alone: a confirmed
// claim is a duplicate, a pending one pending, and a stale (or since
// released) one is claimed after all, and joins c.takenOver.
func (r *Redis) judgeTaken(ctx context.Context, c *claimBatch, ops []ResolveOp, nows []int64, taken []sentClaim, results []ResolveResult) error {
	seen, err := r.readClaims(ctx, taken)
	if err != nil {
		return err
	}
	confirmed, err := r.ticketsConfirmed(ctx, seen)
	if err != nil {
		return err
	}
	wall := time.Now().UnixMilli()
	pipe := r.c.Pipeline()
	cmds := make([]*redis.Cmd, len(taken))
	for n, sc := range taken {
		value, ttl := claimOf(&ops[sc.op], sc.slot, nows[sc.op], wall)
		cmds[n] = pipe.EvalSha(ctx, scriptClaim.sha, []string{sc.slot.key},
			r.prefix, sc.slot.field, value, ttl, nows[sc.op], seen[n], ticketArg(seen[n], confirmed))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		if err := retryNoScript(ctx, r.c, cmds); err != nil {
			return err
		}
	}
	for n, sc := range taken {
		code, err := cmds[n].Text()
		if err != nil {
			return unavailable("claim", err)
		}
		switch code {
		case "0":
			c.takenOver = append(c.takenOver, sc)
		case "1":
			results[sc.op].Duplicate = true
		case "2":
			results[sc.op].ClaimPending = true
		default:
			return fmt.Errorf("claim: answer %q", code)
		}
	}
	return nil
}

// readClaims reads the value of each held claim ("" when gone since).
func (r *Redis) readClaims(ctx context.Context, taken []sentClaim) ([]string, error) {
	pipe := r.c.Pipeline()
	cmds := make([]*redis.StringCmd, len(taken))
	for n, sc := range taken {
		if sc.slot.field != "" {
			cmds[n] = pipe.HGet(ctx, sc.slot.key, sc.slot.field)
		} else {
			cmds[n] = pipe.Get(ctx, sc.slot.key)
		}
	}
	_, _ = pipe.Exec(ctx)
	seen := make([]string, len(taken))
	for n, cmd := range cmds {
		v, err := cmd.Result()
		if err != nil && err != redis.Nil {
			return nil, unavailable("read claim", err)
		}
		seen[n] = v
	}
	return seen, nil
}

// ticketsConfirmed reports, for each ticket among the claim values, whether
// its key exists: the ticket's request confirmed its claims.
func (r *Redis) ticketsConfirmed(ctx context.Context, seen []string) (map[string]bool, error) {
	cmds := map[string]*redis.IntCmd{}
	pipe := r.c.Pipeline()
	for _, v := range seen {
		if t, ok := strings.CutPrefix(v, "t"); ok && cmds[t] == nil {
			cmds[t] = pipe.Exists(ctx, r.prefix+"t:"+t)
		}
	}
	if len(cmds) == 0 {
		return nil, nil
	}
	_, _ = pipe.Exec(ctx)
	out := make(map[string]bool, len(cmds))
	for t, cmd := range cmds {
		n, err := cmd.Result()
		if err != nil {
			return nil, unavailable("read claim ticket", err)
		}
		out[t] = n == 1
	}
	return out, nil
}

// ticketArg is claim.lua's ticket argument for a claim value read before it.
func ticketArg(seen string, confirmed map[string]bool) string {
	t, ok := strings.CutPrefix(seen, "t")
	switch {
	case !ok:
		return ""
	case confirmed[t]:
		return "1"
	}
	return "0"
}

// written is the claims the call wrote: the plain writes that found their
// claim free (whatever else in the pipeline failed), and the takeovers.
func (c *claimBatch) written() []sentClaim {
	out := slices.Clone(c.takenOver)
	for _, sc := range c.claims {
		if sc.slot.field != "" {
			if n, err := sc.cmd.Int64(); err == nil && n == 1 {
				out = append(out, sc)
			}
		} else if sc.cmd.Err() == nil {
			out = append(out, sc)
		}
	}
	return out
}

// releaseWon forgets the claims a failed call wrote, so that the caller's
// retry claims them again at once rather than meeting them pending. A
// release that fails leaves them pending until PendingClaimWindow, as a
// crashed request does.
func (r *Redis) releaseWon(ctx context.Context, won []sentClaim) {
	if len(won) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), claimReleaseTimeout)
	defer cancel()
	p := r.c.Pipeline()
	for _, sc := range won {
		if sc.slot.field != "" {
			p.HDel(ctx, sc.slot.key, sc.slot.field)
		} else {
			p.Del(ctx, sc.slot.key)
		}
	}
	_, _ = p.Exec(ctx)
}

// claimReleaseTimeout bounds releaseWon, which runs after a failure.
const claimReleaseTimeout = 2 * time.Second

// releaseUnused releases the claims of ops that ended with an error, or
// were refused, while the call as a whole went through. A refused op takes
// no claim (lua/resolve.lua answers before anything is written), so it
// reports none either.
func (r *Redis) releaseUnused(ctx context.Context, c *claimBatch, results []ResolveResult) {
	for _, sc := range c.claims {
		if res := &results[sc.op]; res.Refused {
			res.Duplicate, res.ClaimPending = false, false
		}
	}
	var unused []sentClaim
	for _, sc := range c.written() {
		if res := &results[sc.op]; res.Err != nil || res.Refused {
			unused = append(unused, sc)
		}
	}
	r.releaseWon(ctx, unused)
}
