package identity

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// Resolve sends every op as one EVALSHA of lua/resolve.lua in a single
// pipeline: one round trip per call, each op atomic on the server. Claims
// go beside the scripts as plain commands (claim_slot.go says where).
func (r *Redis) Resolve(ctx context.Context, ops []ResolveOp, results []ResolveResult) error {
	if len(results) < len(ops) {
		return fmt.Errorf("resolve: %d results for %d ops", len(results), len(ops))
	}
	wall := time.Now().UnixMilli()
	var cmdBuf [64]*redis.Cmd
	cmds := cmdBuf[:0]
	if len(ops) > len(cmdBuf) {
		cmds = make([]*redis.Cmd, 0, len(ops))
	}
	nows := make([]int64, len(ops))
	pipe := r.c.Pipeline()
	cl := claimBatch{wall: wall}
	for i := range ops {
		results[i] = ResolveResult{}
		op := &ops[i]
		if err := checkTicket(op); err != nil {
			results[i].Err = err
			cmds = append(cmds, nil)
			continue
		}
		nows[i] = op.Now
		if nows[i] == 0 {
			nows[i] = wall
		}
		if op.ClaimOnly {
			cmds = append(cmds, nil)
			if op.IdempotencyKey == "" {
				results[i].Err = errors.New("resolve: claim-only op without an idempotency key")
				continue
			}
			cl.add(ctx, pipe, r.prefix, ops, i, nows[i])
			continue
		}
		p, err := prepareOp(op)
		if err != nil {
			results[i].Err = err
			cmds = append(cmds, nil)
			continue
		}
		cmds = append(cmds, pipe.EvalSha(ctx, scriptResolve.sha, nil, r.resolveArgs(op, &p, nows[i], wall)...))
	}
	expireBuckets(ctx, pipe, cl.buckets)
	if pipe.Len() == 0 {
		return nil
	}
	if _, err := pipe.Exec(ctx); err != nil {
		// A claim already taken answers nil; a resolve may have met an
		// empty script cache. retryNoScript looks at each resolve.
		if err := r.retryNoScript(ctx, cmds); err != nil {
			return err
		}
	}
	taken, err := cl.taken(results)
	if err != nil {
		return err
	}
	if len(taken) > 0 {
		if err := r.judgeTaken(ctx, ops, nows, taken, results); err != nil {
			return err
		}
	}
	for i, cmd := range cmds {
		if cmd == nil {
			continue
		}
		v, err := cmd.Result()
		if err != nil {
			if !isReplyError(err) {
				return unavailable("resolve", err)
			}
			// An error reply (OOM, LOADING, a script error) spoils this op
			// only; it is still an availability problem for the caller.
			results[i].Err = unavailable("resolve", err)
			continue
		}
		decodeResolve(asSlice(v), nows[i], &results[i])
	}
	return nil
}

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
}

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
// recording a refused write in results, or an error when Redis is down.
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

// retryNoScript re-sends, as EVAL with the full source, the ops that failed
// with NOSCRIPT (script cache flushed, or Redis restarted). Ops that ran are
// not resent. A connection failure is returned as is.
func (r *Redis) retryNoScript(ctx context.Context, cmds []*redis.Cmd) error {
	var redo []int
	for i, cmd := range cmds {
		if cmd == nil {
			continue
		}
		err := cmd.Err()
		if err != nil && !isReplyError(err) {
			return unavailable("resolve", err)
		}
		if isNoScript(err) {
			redo = append(redo, i)
		}
	}
	if len(redo) == 0 {
		return nil
	}
	pipe := r.c.Pipeline()
	for _, i := range redo {
		cmds[i] = pipe.Eval(ctx, scriptResolve.src, nil, cmds[i].Args()[3:]...)
	}
	if _, err := pipe.Exec(ctx); err != nil && !isReplyError(err) {
		return unavailable("resolve", err)
	}
	return nil
}

// resolveArgs builds ARGV for lua/resolve.lua (layout documented there).
func (r *Redis) resolveArgs(op *ResolveOp, p *prepared, now, wall int64) []any {
	n := 16 + 2*len(op.Set) + 2*len(op.SetOnce)
	if p.distinct != "" || len(op.Unset) > 0 {
		n += 1 + len(op.Unset) + 6
	}
	args := make([]any, 0, n)
	flags := 0
	if op.NoCreate {
		flags |= 1
	}
	if op.RefuseIdentified {
		flags |= 2
	}
	if op.Identify {
		flags |= 4
	}
	if op.MergeDangerously {
		flags |= 8
	}
	switch op.Trust {
	case TrustPublic:
		flags |= 16
	case TrustVerified:
		flags |= 32
	}
	var slot claimSlot
	window, value := "", ""
	if op.IdempotencyKey != "" {
		slot = claimSlotOf(r.prefix, op.IdempotencyKey)
		value, window = claimOf(op, slot, now, wall)
	}
	keys := &p.keys
	args = append(args,
		r.prefix, now, op.NewID.String(), op.Source, flags, slot.key, slot.field, window, value,
		keys[slotExternal], uuidForm(keys[slotExternal]), keys[slotEmail],
		keys[slotAnonymous], uuidForm(keys[slotAnonymous]),
		len(op.Set))
	for _, p := range op.Set {
		if isNullJSON(p.Value) {
			args = append(args, p.Name, "")
		} else {
			args = append(args, p.Name, p.Value)
		}
	}
	args = append(args, len(op.SetOnce))
	for _, p := range op.SetOnce {
		if isNullJSON(p.Value) {
			args = append(args, p.Name, "")
		} else {
			args = append(args, p.Name, p.Value)
		}
	}
	// Trailing groups, left out when empty so that native ops cost nothing more.
	if p.distinct == "" && len(op.Unset) == 0 {
		return args
	}
	args = append(args, len(op.Unset))
	for _, name := range op.Unset {
		args = append(args, name)
	}
	if p.distinct != "" {
		args = append(args, p.distinct, uuidForm(p.distinct), p.mergeFrom, uuidForm(p.mergeFrom),
			p.provenUser, p.emailClaim)
	}
	return args
}

// decodeResolve fills res from a resolve.lua reply.
func decodeResolve(a []any, now int64, res *ResolveResult) {
	rd := replyReader{a: a}
	res.Found = rd.bool()
	res.Created = rd.bool()
	res.Linked = rd.bool()
	res.Merged = rd.bool()
	switch rd.str() {
	case "1":
		res.Duplicate = true
	case "2":
		res.ClaimPending = true
	}
	version := uint64(rd.int())
	if res.Found {
		rd.contact(&res.Contact)
	}
	if n := rd.count(); n > 0 {
		res.Losers = make([]canonical.Contact, n)
		for i := range res.Losers {
			rd.contact(&res.Losers[i])
		}
	}
	res.Aliases = rd.aliasRows(version, now)
	switch rd.str() {
	case "1":
		res.Refused = true
	case "2":
		res.MergeRefused = true
	}
	res.Unproven = rd.bool()
	if rd.err != nil {
		res.Err = fmt.Errorf("resolve: %w", rd.err)
	}
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

// judgeTaken settles the claims found held, with one run of lua/claim.lua:
// a confirmed claim is a duplicate, a pending one pending, and a stale (or
// since released) one is claimed after all.
func (r *Redis) judgeTaken(ctx context.Context, ops []ResolveOp, nows []int64, taken []sentClaim, results []ResolveResult) error {
	wall := time.Now().UnixMilli()
	args := make([]any, 0, 1+5*len(taken))
	args = append(args, r.prefix)
	for _, sc := range taken {
		value, ttl := claimOf(&ops[sc.op], sc.slot, nows[sc.op], wall)
		args = append(args, sc.slot.key, sc.slot.field, value, ttl, nows[sc.op])
	}
	v, err := scriptClaim.run(ctx, r.c, args...)
	if err != nil {
		return err
	}
	codes := asSlice(v)
	if len(codes) != len(taken) {
		return fmt.Errorf("claim: %d answers for %d keys", len(codes), len(taken))
	}
	for n, sc := range taken {
		switch codes[n] {
		case "0":
		case "1":
			results[sc.op].Duplicate = true
		default:
			results[sc.op].ClaimPending = true
		}
	}
	return nil
}
