package identity

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// Resolve applies ops in order under the store lock. The algorithm mirrors
// lua/resolve.lua step by step; keep them in sync.
func (m *Memory) Resolve(ctx context.Context, ops []ResolveOp, results []ResolveResult) error {
	if len(results) < len(ops) {
		return fmt.Errorf("resolve: %d results for %d ops", len(results), len(ops))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("resolve: %w", err)
	}
	wall := time.Now().UnixMilli()
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range ops {
		results[i] = ResolveResult{}
		m.resolveOne(&ops[i], &results[i], wall)
	}
	return nil
}

func (m *Memory) resolveOne(op *ResolveOp, r *ResolveResult, wall int64) {
	if err := checkTicket(op); err != nil {
		r.Err = err
		return
	}
	if op.ClaimOnly {
		if op.IdempotencyKey == "" {
			r.Err = errors.New("resolve: claim-only op without an idempotency key")
			return
		}
		m.claim(op, r, wall)
		return
	}
	p, err := prepareOp(op)
	if err != nil {
		r.Err = err
		return
	}
	now := op.Now
	if now == 0 {
		now = wall
	}
	// matched is the target side: Distinct's contact t, then what Keys match.
	var buf [numSlots + 2]*memContact
	matched := buf[:0]
	var t, src *memContact
	if p.distinct != "" {
		if t = m.distinctLive(p.distinct); t != nil {
			matched = append(matched, t)
		}
		if p.mergeFrom != "" {
			src = m.distinctLive(p.mergeFrom)
		}
	}
	for slot, v := range p.keys {
		if v == "" {
			continue
		}
		c := m.aliasLive(slotKinds[slot], v)
		if c == nil && slot == slotExternal {
			c = m.byUUID(v)
		}
		if c != nil && !slices.Contains(matched, c) {
			matched = append(matched, c)
		}
	}
	if op.RefuseIdentified {
		for _, c := range matched {
			if c.c.ExternalID != "" || c.c.Email != "" {
				r.Refused = true
				return
			}
		}
		if src != nil && (src.c.ExternalID != "" || src.c.Email != "") {
			r.Refused = true
			return
		}
	}
	g := m.gate(op, &p, t, src, matched)
	r.Unproven = g.unproven
	if g.readOnly {
		m.readOnly(matched[0], r)
		m.claim(op, r, wall)
		return
	}
	// MergeFrom's contact joins from outside the target side, unless refused.
	fromLast := false
	if src != nil && !slices.Contains(matched, src) {
		if g.refuseFrom || len(matched) > 0 && src.c.ExternalID != "" && !op.MergeDangerously {
			r.MergeRefused = true
		} else {
			fromLast = true
			matched = append(matched, src)
		}
	}
	wk := newWriteKeys(&p, op.Identify && !g.noPromote, t != nil, src != nil)
	switch len(matched) {
	case 0:
		if op.NoCreate {
			m.claim(op, r, wall)
			return
		}
		m.create(op, &wk, now, r)
	case 1:
		m.link(op, &wk, matched[0], now, r)
	default:
		// While MergeFrom is in play, Distinct's contact survives; MergeFrom's
		// (from outside) comes last.
		var pin *memContact
		if p.mergeFrom != "" {
			pin = t
		}
		m.merge(op, &wk, matched, pin, fromLast, now, r)
	}
	r.Found = true
	m.claimEmail(op, &p, now, r)
	m.claim(op, r, wall)
}

// distinctLive looks a PostHog distinct id up: external alias, then anonymous.
func (m *Memory) distinctLive(v string) *memContact {
	if c := m.aliasLive(canonical.KindExternal, v); c != nil {
		return c
	}
	return m.aliasLive(canonical.KindAnonymous, v)
}

// byUUID returns the live contact whose id is the uuid-shaped v.
func (m *Memory) byUUID(v string) *memContact {
	if !LooksLikeUUID(v) {
		return nil
	}
	id, err := uuid.Parse(v)
	if err != nil {
		return nil
	}
	return m.live(id)
}

func (m *Memory) create(op *ResolveOp, wk *writeKeys, now int64, r *ResolveResult) {
	v := m.next()
	c := &memContact{
		c: canonical.Contact{
			ID: op.NewID, ExternalID: strings.Clone(wk.first(slotExternal)), Email: strings.Clone(wk.first(slotEmail)),
			AnonymousID: strings.Clone(wk.first(slotAnonymous)), Source: strings.Clone(op.Source),
			FirstSeenAt: now, LastSeenAt: now, CreatedAt: now, UpdatedAt: now, Version: v,
		},
	}
	c.props.apply(op)
	m.contacts[c.c.ID] = c
	for _, k := range wk.k[:wk.n] {
		m.setAlias(r, Key{slotKinds[k.slot], k.val}, c, uuid.Nil, canonical.ReasonResolve, v, now)
	}
	r.Created = true
	r.Contact = c.result()
}

// link is upstream's fill-in-link: an empty column takes the key, a differing
// column is kept and the key only becomes an extra alias.
func (m *Memory) link(op *ResolveOp, wk *writeKeys, c *memContact, now int64, r *ResolveResult) {
	v := m.next()
	for _, x := range wk.k[:wk.n] {
		s, val := x.slot, x.val
		col := c.column(s)
		if *col == val {
			continue
		}
		if s != slotEmail && m.isOtherKey(val, c) {
			continue
		}
		if *col == "" {
			*col = strings.Clone(val)
		}
		k := Key{slotKinds[s], val}
		if a, ok := m.aliases[k]; !ok || a.id != c.c.ID {
			m.setAlias(r, k, c, uuid.Nil, canonical.ReasonPromote, v, now)
		}
	}
	c.props.apply(op)
	c.c.LastSeenAt, c.c.UpdatedAt, c.c.Version = now, now, v
	r.Linked = true
	r.Contact = c.result()
}

// merge folds two or more matched contacts into the survivor: pin when not
// nil, else the best by the survivor rule. With fromLast, the last contact
// (MergeFrom's) is kept last, below every other.
func (m *Memory) merge(op *ResolveOp, wk *writeKeys, cs []*memContact, pin *memContact, fromLast bool, now int64, r *ResolveResult) {
	v := m.next()
	head := cs
	if fromLast {
		head = cs[:len(cs)-1]
	}
	slices.SortFunc(head, func(a, b *memContact) int {
		switch {
		case a == b:
			return 0
		case a == pin:
			return -1
		case b == pin:
			return 1
		}
		return compareRank(a, b)
	})
	s, losers := cs[0], cs[1:]
	// Losers are soft-deleted first, as upstream does, so that the liveness
	// checks below treat their keys as free.
	for _, l := range losers {
		l.c.DeletedAt, l.c.UpdatedAt, l.c.Version = now, now, v
	}
	var props propList
	for i := len(cs) - 1; i >= 0; i-- {
		props.overlay(cs[i].props)
	}
	s.props = props
	for slot := range numSlots {
		col := s.column(slot)
		if *col != "" {
			continue
		}
		if *col = strings.Clone(wk.first(slot)); *col == "" {
			for _, l := range losers {
				if lv := *l.column(slot); lv != "" {
					*col = lv
					break
				}
			}
		}
	}
	if s.c.Source == "" {
		for _, l := range losers {
			if l.c.Source != "" {
				s.c.Source = l.c.Source
				break
			}
		}
	}
	first := s.c.FirstSeenAt
	for _, l := range losers {
		first = min(first, l.c.FirstSeenAt)
		for _, k := range loserKeys(l) {
			if a, ok := m.aliases[k]; ok && m.live(a.id) != nil {
				continue
			}
			m.setAlias(r, k, s, l.c.ID, canonical.ReasonMerge, v, now)
		}
		l.aliases.clear()
	}
	for _, x := range wk.k[:wk.n] {
		k := Key{slotKinds[x.slot], x.val}
		if a, ok := m.aliases[k]; ok && m.live(a.id) != nil {
			continue
		}
		if x.slot != slotEmail && m.isOtherKey(x.val, s) {
			continue
		}
		m.setAlias(r, k, s, uuid.Nil, canonical.ReasonPromote, v, now)
	}
	s.props.apply(op)
	s.c.FirstSeenAt, s.c.LastSeenAt, s.c.UpdatedAt, s.c.Version = first, now, now, v
	r.Merged, r.Linked = true, true
	r.Contact = s.result()
	r.Losers = make([]canonical.Contact, len(losers))
	for i, l := range losers {
		r.Losers[i] = l.result()
	}
}

// compareRank orders contacts by upstream's survivor rule: has external_id,
// then earlier first_seen_at, then lower id.
func compareRank(a, b *memContact) int {
	if ae, be := a.c.ExternalID != "", b.c.ExternalID != ""; ae != be {
		if ae {
			return -1
		}
		return 1
	}
	if a.c.FirstSeenAt != b.c.FirstSeenAt {
		if a.c.FirstSeenAt < b.c.FirstSeenAt {
			return -1
		}
		return 1
	}
	return bytes.Compare(a.c.ID[:], b.c.ID[:])
}

// loserKeys lists every key of a merged-away contact: its aliases, its
// identity columns and, when it had no external or anonymous id (its canonical
// key was its uuid), external:<uuid>, so history stored under it still resolves.
func loserKeys(l *memContact) []Key {
	set := l.aliases
	for slot := range numSlots {
		if v := *l.column(slot); v != "" {
			set.add(Key{slotKinds[slot], v})
		}
	}
	if l.c.ExternalID == "" && l.c.AnonymousID == "" {
		set.add(Key{canonical.KindExternal, l.c.ID.String()})
	}
	return sortedKeys(set)
}

// isOtherKey reports whether v is the canonical key (external_id ??
// anonymous_id ?? id) of a live contact other than self; upstream refuses
// external and anonymous claims of such values.
func (m *Memory) isOtherKey(v string, self *memContact) bool {
	if c := m.aliasLive(canonical.KindExternal, v); c != nil && c != self && c.c.ExternalID == v {
		return true
	}
	if c := m.aliasLive(canonical.KindAnonymous, v); c != nil && c != self &&
		c.c.ExternalID == "" && c.c.AnonymousID == v {
		return true
	}
	if c := m.byUUID(v); c != nil && c != self && c.c.ExternalID == "" && c.c.AnonymousID == "" {
		return true
	}
	return false
}

// setAlias points k at c and records the alias row in r.
func (m *Memory) setAlias(r *ResolveResult, k Key, c *memContact, from uuid.UUID, reason string, v uint64, now int64) {
	k = ownKey(c, k)
	if old, ok := m.aliases[k]; ok && old.id != c.c.ID {
		if oc := m.contacts[old.id]; oc != nil {
			oc.aliases.del(k)
		}
	}
	m.aliases[k] = memAlias{id: c.c.ID, version: v}
	c.aliases.add(k)
	r.Aliases = append(r.Aliases, canonical.Alias{
		Kind: k.Kind, Value: k.Value, ContactID: c.c.ID, FromContactID: from,
		Reason: reason, Version: v, At: now,
	})
}
