package identity

import (
	"strconv"

	"github.com/google/uuid"
	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// Touches (docs/redis-layout.md § 4): most ops are one more event of a
// known person that changes nothing but last_seen. When the cache holds the
// person, such an op is checked against Redis and only bumps last_seen; it
// resolves in full only when its copy is stale. Inside a call, an op asks
// lua/resolve.lua to touch first, so that both happen in its one script and
// the ops of the call still apply in order; the touches that end a call
// share one script call instead (redis_touches.go).

// touchPlan is the touch that may resolve one op from a cached copy; the
// zero value plans none. The keys it checks are the op's (its prepared
// keys and distinct id), so the plan holds only what the cache said.
type touchPlan struct {
	held  canonical.Contact // the copy, read from the cache
	ready bool              // held is set: the op touches first
	// distinct is the rule of the op's distinct id: '=' its external alias
	// points at the copy, '0' its anonymous alias does (and the external
	// one is absent or does too), 0 when the op has none.
	distinct byte
	batched  bool // the touch is in the call's touch batch (redis_touches.go)
}

// distinctKind is the cache's key kind of a PostHog distinct id, apart
// from the native kinds: its alias rule differs.
const distinctKind = "d"

func distinctKey(d string) string { return distinctKind + ":" + d }

func slotKey(slot int, v string) string { return slotKinds[slot] + ":" + v }

// slotFilled is the record's filled bit of an identity slot's column.
var slotFilled = [numSlots]byte{slotExternal: recordExternal, slotEmail: recordEmail, slotAnonymous: recordAnonymous}

// planTouch returns the touch of op, when the cache holds the copy every
// key of op points at and op would change nothing but last_seen.
func (r *Redis) planTouch(op *ResolveOp, p *prepared) (touchPlan, bool) {
	if r.cache == nil || !touchable(op, p) {
		return touchPlan{}, false
	}
	var plan touchPlan
	for s, v := range p.keys {
		if v == "" {
			continue
		}
		k, ok := plan.lookup(r.cache, slotKinds[s], v)
		if !ok || k.filled&slotFilled[s] == 0 {
			return touchPlan{}, false // a miss, two people, or a column to fill
		}
	}
	if p.distinct != "" {
		k, ok := plan.lookup(r.cache, distinctKind, p.distinct)
		if !ok {
			return touchPlan{}, false
		}
		plan.distinct = k.rule
	}
	if !plan.ready {
		return touchPlan{}, false
	}
	c := &plan.held
	if op.RefuseIdentified && (c.ExternalID != "" || c.Email != "") || !patchUnchanged(op, c.Properties) {
		return touchPlan{}, false
	}
	return plan, true
}

// lookup finds the key kind:value for the plan: the first key found reads
// the copy into held, each later one must point at the same contact.
func (plan *touchPlan) lookup(cc *contactCache, kind, value string) (cachedKey, bool) {
	if !plan.ready {
		k, ok := cc.read(kind, value, &plan.held)
		plan.ready = ok
		return k, ok
	}
	k, ok := cc.find(kind, value)
	return k, ok && k.id == plan.held.ID
}

// aliasCheck is one (aliasKey rule) pair a touch checks.
type aliasCheck struct{ kind, value, rule string }

// maxAliasChecks: one per native key kind, and two for a distinct id.
const maxAliasChecks = numSlots + 2

// checks lists the alias keys the touch checks: every key of the op, and
// its distinct id's by the rule the cache found.
func (plan *touchPlan) checks(p *prepared) ([maxAliasChecks]aliasCheck, int) {
	var out [maxAliasChecks]aliasCheck
	n := 0
	for s, v := range p.keys {
		if v != "" {
			out[n] = aliasCheck{slotKinds[s], v, "="}
			n++
		}
	}
	switch plan.distinct {
	case '=':
		out[n] = aliasCheck{canonical.KindExternal, p.distinct, "="}
		n++
	case '0':
		out[n] = aliasCheck{canonical.KindExternal, p.distinct, "0"}
		out[n+1] = aliasCheck{canonical.KindAnonymous, p.distinct, "="}
		n += 2
	}
	return out, n
}

// addChecks appends the plan's touch group of a script's ARGV: id seen,
// then now and npairs when withCount (touches.lua wants them), then
// (aliasKey rule) for every key the touch checks.
func (plan *touchPlan) addChecks(t *textArgs, p *prepared, now int64, withCount bool) {
	checks, n := plan.checks(p)
	t.addUUID(plan.held.ID)
	t.addUint(plan.held.Version)
	if withCount {
		t.addInt(now)
		t.addInt(int64(n))
	}
	for _, c := range checks[:n] {
		t.add(c.kind, ":", c.value)
		t.add(c.rule)
	}
}

// touchable: ops that merge, promote, claim an email or may be refused by
// trust always resolve in full.
func touchable(op *ResolveOp, p *prepared) bool {
	return !op.ClaimOnly && p.mergeFrom == "" && !op.Identify && p.emailClaim == "" && op.Trust != TrustVerified
}

func column(c *canonical.Contact, slot int) string {
	switch slot {
	case slotExternal:
		return c.ExternalID
	case slotEmail:
		return c.Email
	}
	return c.AnonymousID
}

// patchUnchanged reports whether op's Set, SetOnce and Unset leave props
// (a contact's properties) as they are, applied as lua/resolve.lua does.
func patchUnchanged(op *ResolveOp, props []byte) bool {
	if len(op.Set)+len(op.SetOnce)+len(op.Unset) == 0 {
		return true
	}
	var buf [32]rawProp
	have := buf[:0]
	ok := true
	gjson.ParseBytes(props).ForEach(func(k, v gjson.Result) bool {
		if len(have) == cap(buf) {
			ok = false // many properties: the full resolve compares them
			return false
		}
		have = append(have, rawProp{name: k.String(), raw: v.Raw})
		return true
	})
	if !ok {
		return false
	}
	for _, p := range op.SetOnce {
		if _, found := lookupProp(have, p.Name); !isNullJSON(p.Value) && !found {
			return false
		}
	}
	for _, p := range op.Set {
		raw, found := lookupProp(have, p.Name)
		switch {
		case isNullJSON(p.Value):
			if found {
				return false
			}
		case nestedMerge(p.Name) && isObjectJSON(p.Value), !found, raw != string(p.Value):
			return false
		}
	}
	for _, name := range op.Unset {
		if _, found := lookupProp(have, name); found {
			return false
		}
	}
	return true
}

// rawProp is a stored property as read from a copy's JSON, without copying.
type rawProp struct{ name, raw string }

func lookupProp(ps []rawProp, name string) (string, bool) {
	for _, p := range ps {
		if p.name == name {
			return p.raw, true
		}
	}
	return "", false
}

// touchReply reports a touch's reply ('T' version) and its version.
func touchReply(a []any) (uint64, bool) {
	if len(a) != 2 {
		return 0, false
	}
	if t, _ := a[0].(string); t != "T" {
		return 0, false
	}
	s, _ := a[1].(string)
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

// touched fills res from a touch's reply: the copy, as the touch left it.
func touched(plan *touchPlan, version uint64, now int64, res *ResolveResult) {
	res.Found, res.Linked = true, true
	res.Contact = plan.held
	res.Contact.LastSeenAt, res.Contact.UpdatedAt, res.Contact.Version = now, now, version
}

// rememberResolve keeps a copy of what a full resolve of op returned, with
// the keys of op now known to point at it; a merge's losers are dropped.
func (r *Redis) rememberResolve(op *ResolveOp, p *prepared, res *ResolveResult) {
	if r.cache == nil {
		return
	}
	// A loser's copies need no dropping: their next touch finds them stale.
	c := &res.Contact
	if res.Err != nil || !res.Found || res.Refused || res.MergeRefused || res.Unproven || c.DeletedAt != 0 {
		return
	}
	var keyBuf [4]string
	var ruleBuf [4]byte
	keys, rules := keyBuf[:0], ruleBuf[:0]
	for s, v := range p.keys {
		if v != "" && (column(c, s) == v || wroteAlias(res, slotKinds[s], v, c.ID)) {
			keys, rules = append(keys, slotKey(s, v)), append(rules, '=')
		}
	}
	if d := p.distinct; d != "" {
		switch {
		case c.ExternalID == d || wroteAlias(res, canonical.KindExternal, d, c.ID):
			keys, rules = append(keys, distinctKey(d)), append(rules, '=')
		case c.AnonymousID == d || wroteAlias(res, canonical.KindAnonymous, d, c.ID):
			keys, rules = append(keys, distinctKey(d)), append(rules, '0')
		}
	}
	r.cache.remember(c, keys, rules)
}

// wroteAlias reports whether res wrote the alias kind:value to id.
func wroteAlias(res *ResolveResult, kind, value string, id uuid.UUID) bool {
	for _, a := range res.Aliases {
		if a.Kind == kind && a.Value == value && a.ContactID == id && !a.Deleted {
			return true
		}
	}
	return false
}
