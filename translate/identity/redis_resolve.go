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
// go beside the scripts as plain commands (redis_claim.go). The touches
// that end the call share one script call instead (redis_touches.go); from
// the first that meets a stale copy on, those ops resolve in a second round
// trip, in order.
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
	rc := resolveCall{ops: ops, results: results, nows: make([]int64, len(ops)),
		preps: make([]prepared, len(ops)), plans: make([]touchPlan, len(ops))}
	for i := range ops {
		r.planOp(&rc, i, wall)
	}
	rc.chooseBatch()
	pipe := r.c.Pipeline()
	cl := claimBatch{wall: wall}
	for i := range ops {
		cmds = append(cmds, r.queueOp(ctx, pipe, &cl, &rc, i))
	}
	rc.batch.queue(ctx, pipe, r, &rc)
	expireBuckets(ctx, pipe, cl.buckets)
	if pipe.Len() == 0 {
		return nil
	}
	if err := r.settle(ctx, pipe, &cl, cmds, &rc); err != nil {
		r.releaseWon(ctx, cl.written())
		return err
	}
	r.releaseUnused(ctx, &cl, results)
	return nil
}

// resolveCall is one Resolve's ops and what it works out for each.
type resolveCall struct {
	ops     []ResolveOp
	results []ResolveResult
	nows    []int64
	preps   []prepared
	plans   []touchPlan // the touch an op tries before the full resolve
	batch   touchBatch  // the ops whose touches share one script call
}

// planOp works out what rc.ops[i] needs: its time, its keys, and the touch
// that may resolve it from a cached copy. An op that cannot run gets its
// error in rc.results[i].
func (r *Redis) planOp(rc *resolveCall, i int, wall int64) {
	op := &rc.ops[i]
	rc.results[i] = ResolveResult{}
	if err := checkTicket(op); err != nil {
		rc.results[i].Err = err
		return
	}
	rc.nows[i] = op.Now
	if rc.nows[i] == 0 {
		rc.nows[i] = wall
	}
	if op.ClaimOnly {
		if op.IdempotencyKey == "" {
			rc.results[i].Err = errors.New("resolve: claim-only op without an idempotency key")
		}
		return
	}
	p, err := prepareOp(op)
	if err != nil {
		rc.results[i].Err = err
		return
	}
	rc.preps[i] = p
	if t, ok := r.planTouch(op, &p); ok {
		rc.plans[i] = t
	}
}

// queueOp queues rc.ops[i] on pipe: its touch-first or full resolve, unless
// it is claim-only or its touch waits in the batch, and its claim. It
// returns the script's command, or nil.
func (r *Redis) queueOp(ctx context.Context, pipe redis.Pipeliner, cl *claimBatch, rc *resolveCall, i int) *redis.Cmd {
	op := &rc.ops[i]
	if rc.results[i].Err != nil {
		return nil
	}
	var cmd *redis.Cmd
	if !op.ClaimOnly && !rc.plans[i].batched {
		cmd = r.queueResolve(ctx, pipe, rc, i)
	}
	// The resolve runs even for a duplicate (upstream behaviour); the claim
	// is pending ('p', or a ticket) until ConfirmIdempotency.
	if op.IdempotencyKey != "" {
		cl.add(ctx, pipe, r.prefix, rc.ops, i, rc.nows[i])
	}
	return cmd
}

// queueResolve queues rc.ops[i]'s resolve.lua on pipe: touching first when
// it has a touch plan, else in full.
func (r *Redis) queueResolve(ctx context.Context, pipe redis.Pipeliner, rc *resolveCall, i int) *redis.Cmd {
	plan := &rc.plans[i]
	if !plan.ready {
		plan = nil
	}
	return pipe.EvalSha(ctx, scriptResolve.sha, r.graphKeys(), r.resolveArgs(&rc.ops[i], &rc.preps[i], rc.nows[i], plan)...)
}

// settle sends the pipeline and fills results: claims found held are judged,
// then each script's reply decoded, and the touches that found their copy
// stale resolved in full. An error means Redis is unavailable.
func (r *Redis) settle(ctx context.Context, pipe redis.Pipeliner, cl *claimBatch, cmds []*redis.Cmd, rc *resolveCall) error {
	if _, err := pipe.Exec(ctx); err != nil {
		// A claim already taken answers nil; a resolve may have met an
		// empty script cache. retryNoScript looks at each script.
		if err := retryNoScript(ctx, r.c, cmds); err != nil {
			return err
		}
		if err := retryNoScript(ctx, r.c, rc.batch.cmds()); err != nil {
			return err
		}
	}
	taken, err := cl.taken(rc.results)
	if err != nil {
		return err
	}
	if len(taken) > 0 {
		if err := r.judgeTaken(ctx, cl, rc.ops, rc.nows, taken, rc.results); err != nil {
			return err
		}
	}
	for i, cmd := range cmds {
		if cmd == nil {
			continue
		}
		if err := r.settleResolve(cmd, rc, i); err != nil {
			return err
		}
	}
	return r.settleBatch(ctx, rc)
}

// settleResolve decodes the reply of rc.ops[i]'s script, a touch or a full
// resolve, into rc.results[i].
func (r *Redis) settleResolve(cmd *redis.Cmd, rc *resolveCall, i int) error {
	v, err := cmd.Result()
	if err != nil {
		if !isReplyError(err) {
			return unavailable("resolve", err)
		}
		// An error reply (OOM, LOADING, a script error) spoils this op
		// only; it is still an availability problem for the caller.
		rc.results[i].Err = unavailable("resolve", err)
		return nil
	}
	a := asSlice(v)
	if plan := &rc.plans[i]; plan.ready {
		r.touches.Add(1)
		if version, ok := touchReply(a); ok {
			touched(plan, version, rc.nows[i], &rc.results[i])
			return nil
		}
		r.staleCopy(plan, &rc.preps[i])
	}
	decodeResolve(a, rc.nows[i], &rc.results[i])
	r.rememberResolve(&rc.ops[i], &rc.preps[i], &rc.results[i])
	return nil
}

// staleCopy counts a touch that found plan's copy stale, drops the copy
// under every key of the op, p, so that no op is planned from it again, and
// clears the plan. Other keys of the copy are caught by their own touches.
func (r *Redis) staleCopy(plan *touchPlan, p *prepared) {
	r.staleTouches.Add(1)
	for s, v := range p.keys {
		if v != "" {
			r.cache.drop(slotKinds[s], v, plan.held.ID)
		}
	}
	if p.distinct != "" {
		r.cache.drop(distinctKind, p.distinct, plan.held.ID)
	}
	*plan = touchPlan{}
}

// retryNoScript re-sends, as EVAL of s with the full source, the runs that
// failed with NOSCRIPT (script cache flushed, Redis restarted or failed
// over). Runs that ran are not resent. A connection failure is returned as is.
func retryNoScript(ctx context.Context, c redis.UniversalClient, cmds []*redis.Cmd) error {
	var redo []int
	for i, cmd := range cmds {
		if cmd == nil {
			continue
		}
		err := cmd.Err()
		if err != nil && !isReplyError(err) {
			return unavailable("identity script", err)
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
		s := scriptBySHA(a[1].(string))
		cmds[i] = pipe.Eval(ctx, s.src, keys, a[3+nkeys:]...)
	}
	if _, err := pipe.Exec(ctx); err != nil && !isReplyError(err) {
		return unavailable("identity script", err)
	}
	return nil
}

// resolveArgs builds ARGV for lua/resolve.lua (layout documented there),
// touching first when plan is set.
func (r *Redis) resolveArgs(op *ResolveOp, p *prepared, now int64, plan *touchPlan) []any {
	n := 12 + 2*len(op.Set) + 2*len(op.SetOnce)
	if p.distinct != "" || len(op.Unset) > 0 || plan != nil {
		n += 1 + len(op.Unset) + 6
	}
	if plan != nil {
		n += 2 + 2*maxAliasChecks
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
	if plan != nil {
		flags |= 64
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
	// Trailing groups, left out when empty so that native ops cost nothing
	// more, unless the touch group follows them.
	if p.distinct == "" && len(op.Unset) == 0 && plan == nil {
		return args
	}
	args = append(args, len(op.Unset))
	for _, name := range op.Unset {
		args = append(args, name)
	}
	if p.distinct != "" || plan != nil {
		args = append(args, p.distinct, uuidForm(p.distinct), p.mergeFrom, uuidForm(p.mergeFrom),
			p.provenUser, p.emailClaim)
	}
	if plan != nil {
		var bufArr [192]byte
		var endArr [12]int
		t := textArgs{buf: bufArr[:0], ends: endArr[:0]}
		plan.addChecks(&t, p, now, false)
		args = t.appendTo(args)
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
