package ingest

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/native"
	"github.com/hogsend/hogsend-proxy/translate/posthog"
)

// personOp builds the identity op of one event, its uuid claim's key made
// in keys, under PostHog's identity
// rules, within what the request's credential proves
// (docs/identity-trust.md): every distinct_id is an alias of a
// contact; $identify and $create_alias merge (refused when the other person
// is identified, except for $merge_dangerously, which needs proof; never
// with an illegal id); $set, $set_once and $unset change the contact;
// $set.email is an email key with full trust, else only fills an empty
// email; with $process_person_profile false the event changes and creates
// no contact. ok is false when the event has no op; warnings are appended.
func (in *Ingestor) personOp(ev *posthog.RawEvent, now int64, trust *requestTrust, keys *claimKeys, warns *[]string) (identity.ResolveOp, bool) {
	f := &ev.Facts
	op := identity.ResolveOp{Distinct: ev.DistinctID, Source: "posthog", Now: now}
	if !ev.UUIDGenerated {
		op.IdempotencyKey, op.IdempotencyWindow = keys.of(ev.UUID), in.window
	}
	// Personless events (and placeholder ids such as "anonymous", which would
	// gather strangers into one contact) are deduplicated and linked to a
	// known contact, but never create or change one.
	if f.ProcessPerson.Type == gjson.False || IllegalDistinctID(ev.DistinctID) {
		op.NoCreate = true
		return op, true
	}
	op.NewID = newContactID()
	op.Trust = trust.level
	if trust.level != identity.TrustFull {
		user, warn := trust.provenUser(ev)
		op.ProvenUser = user
		addWarning(warns, warn)
	}
	addWarning(warns, mergeOp(&op, ev))
	if op.MergeDangerously && op.Trust != identity.TrustFull && op.ProvenUser == "" {
		op.MergeFrom, op.MergeDangerously = "", false
		addWarning(warns, warnDangerouslyNeeds)
	}
	if ev.Name == "$groupidentify" || ev.Name == "$exception" || ev.Name == "$$heatmap" {
		return op, true // PostHog applies no person property updates for these
	}
	set := mergedObject(ev.Set, f.Set)
	setOnce := mergedObject(ev.SetOnce, f.SetOnce)
	op.Set, op.SetOnce = set, setOnce
	op.Unset = unsetKeys(f.Unset)
	if email := setEmail(set); email != "" {
		if op.Trust == identity.TrustFull {
			op.Keys = append(op.Keys, identity.Key{Kind: canonical.KindEmail, Value: email})
		} else {
			op.EmailClaim = email
		}
	}
	return op, true
}

// mergeOp sets the merge of $identify, $create_alias and
// $merge_dangerously on op, or returns the warning of an illegal id.
func mergeOp(op *identity.ResolveOp, ev *posthog.RawEvent) string {
	f := &ev.Facts
	var other string
	switch ev.Name {
	case "$identify":
		op.Identify = true
		if anon := f.AnonDistinctID; anon.Exists() && anon.Type != gjson.Null {
			other = anon.String()
		}
	case "$create_alias", "$merge_dangerously":
		op.Identify = ev.Name == "$create_alias"
		other = f.Alias.String()
	default:
		return ""
	}
	if other == "" || other == ev.DistinctID {
		return ""
	}
	if IllegalDistinctID(other) {
		return warnIllegalDistinctID
	}
	op.MergeFrom, op.MergeDangerously = other, ev.Name == "$merge_dangerously"
	return ""
}

// setEmail is $set.email, normalised, when it is a valid email.
func setEmail(set []identity.Prop) string {
	for _, p := range set {
		if p.Name == "email" && p.Value != nil {
			if e := gjson.ParseBytes(p.Value); e.Type == gjson.String && native.ValidEmail(strings.TrimSpace(e.Str)) {
				return identity.NormalizeEmail(e.Str)
			}
		}
	}
	return ""
}

func addWarning(warns *[]string, w string) {
	if w != "" {
		*warns = append(*warns, w)
	}
}

// mergedObject lays the top-level object over the one in properties (the
// top level wins, docs/contracts/posthog-capture.md §4.2) and returns its members as props.
func mergedObject(top, inProps gjson.Result) []identity.Prop {
	var out []identity.Prop
	index := map[string]int{}
	add := func(obj gjson.Result) {
		if !obj.IsObject() {
			return
		}
		obj.ForEach(func(k, v gjson.Result) bool {
			p := identity.Prop{Name: k.String()}
			if v.Type != gjson.Null {
				p.Value = []byte(v.Raw)
			}
			if i, ok := index[p.Name]; ok {
				out[i] = p
			} else {
				index[p.Name] = len(out)
				out = append(out, p)
			}
			return true
		})
	}
	add(inProps)
	add(top)
	return out
}

// unsetKeys reads $unset: an array of keys, or an object whose keys are used.
func unsetKeys(v gjson.Result) []string {
	var out []string
	switch {
	case v.IsArray():
		for _, k := range v.Array() {
			if k.Type == gjson.String && k.Str != "" {
				out = append(out, k.Str)
			}
		}
	case v.IsObject():
		v.ForEach(func(k, _ gjson.Result) bool {
			out = append(out, k.String())
			return true
		})
	}
	return out
}
