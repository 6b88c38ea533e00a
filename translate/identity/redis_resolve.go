package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// Resolve sends every op as one EVALSHA of lua/resolve.lua in a single
// pipeline: one round trip per call, each op atomic on the server. Claims
// go beside the scripts as plain commands (redis_claim.go).
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
		cmds = append(cmds, r.queueOp(ctx, pipe, &cl, ops, i, wall, nows, results))
	}
	expireBuckets(ctx, pipe, cl.buckets)
	if pipe.Len() == 0 {
		return nil
	}
	if err := r.settle(ctx, pipe, &cl, cmds, ops, nows, results); err != nil {
		r.releaseWon(ctx, cl.written())
		return err
	}
	r.releaseUnused(ctx, &cl, results)
	return nil
}

// queueOp queues ops[i] on pipe: its resolve script, if it is not claim-only,
// and its claim. It returns the script's command, or nil.
func (r *Redis) queueOp(ctx context.Context, pipe redis.Pipeliner, cl *claimBatch, ops []ResolveOp, i int, wall int64, nows []int64, results []ResolveResult) *redis.Cmd {
	results[i] = ResolveResult{}
	op := &ops[i]
	if err := checkTicket(op); err != nil {
		results[i].Err = err
		return nil
	}
	nows[i] = op.Now
	if nows[i] == 0 {
		nows[i] = wall
	}
	if op.ClaimOnly {
		if op.IdempotencyKey == "" {
			results[i].Err = errors.New("resolve: claim-only op without an idempotency key")
			return nil
		}
		cl.add(ctx, pipe, r.prefix, ops, i, nows[i])
		return nil
	}
	p, err := prepareOp(op)
	if err != nil {
		results[i].Err = err
		return nil
	}
	cmd := pipe.EvalSha(ctx, scriptResolve.sha, r.graphKeys(), r.resolveArgs(op, &p, nows[i])...)
	// The resolve runs even for a duplicate (upstream behaviour); the claim
	// is pending ('p', or a ticket) until ConfirmIdempotency.
	if op.IdempotencyKey != "" {
		cl.add(ctx, pipe, r.prefix, ops, i, nows[i])
	}
	return cmd
}

// settle sends the pipeline and fills results: claims found held are judged,
// then each script's reply decoded. An error means Redis is unavailable.
func (r *Redis) settle(ctx context.Context, pipe redis.Pipeliner, cl *claimBatch, cmds []*redis.Cmd, ops []ResolveOp, nows []int64, results []ResolveResult) error {
	if _, err := pipe.Exec(ctx); err != nil {
		// A claim already taken answers nil; a resolve may have met an
		// empty script cache. retryNoScript looks at each resolve.
		if err := retryNoScript(ctx, r.c, scriptResolve, cmds); err != nil {
			return err
		}
	}
	taken, err := cl.taken(results)
	if err != nil {
		return err
	}
	if len(taken) > 0 {
		if err := r.judgeTaken(ctx, cl, ops, nows, taken, results); err != nil {
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

// retryNoScript re-sends, as EVAL of s with the full source, the runs that
// failed with NOSCRIPT (script cache flushed, Redis restarted or failed
// over). Runs that ran are not resent. A connection failure is returned as is.
func retryNoScript(ctx context.Context, c redis.UniversalClient, s *script, cmds []*redis.Cmd) error {
	var redo []int
	for i, cmd := range cmds {
		if cmd == nil {
			continue
		}
		err := cmd.Err()
		if err != nil && !isReplyError(err) {
			return unavailable(s.name, err)
		}
		if isNoScript(err) {
			redo = append(redo, i)
		}
	}
	if len(redo) == 0 {
		return nil
	}
	pipe := c.Pipeline()
	for _, i := range redo {
		// EVALSHA sha numkeys key... arg...: keys and args as sent.
		a := cmds[i].Args()
		nkeys := a[2].(int)
		keys := make([]string, nkeys)
		for k := range keys {
			keys[k] = a[3+k].(string)
		}
		cmds[i] = pipe.Eval(ctx, s.src, keys, a[3+nkeys:]...)
	}
	if _, err := pipe.Exec(ctx); err != nil && !isReplyError(err) {
		return unavailable(s.name, err)
	}
	return nil
}

// resolveArgs builds ARGV for lua/resolve.lua (layout documented there).
func (r *Redis) resolveArgs(op *ResolveOp, p *prepared, now int64) []any {
	n := 12 + 2*len(op.Set) + 2*len(op.SetOnce)
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
	keys := &p.keys
	args = append(args,
		r.graph, now, op.NewID.String(), op.Source, flags,
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
