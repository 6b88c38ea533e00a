package identity

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// Restore loads a snapshot read back from ClickHouse: contacts, then aliases,
// then an index entry for every live identity column that no live alias covers
// (rows written by older tools may lack alias rows), then API keys and claims.
// The version counter ends at least at the highest version seen.
func (m *Memory) Restore(_ context.Context, s canonical.Snapshot) error {
	contacts := slices.Clone(s.Contacts)
	slices.SortStableFunc(contacts, func(a, b canonical.Contact) int { return cmp.Compare(a.Version, b.Version) })
	aliases := slices.Clone(s.Aliases)
	slices.SortStableFunc(aliases, func(a, b canonical.Alias) int { return cmp.Compare(a.Version, b.Version) })

	// Decode properties before taking the lock.
	props := make([]propList, len(contacts))
	for i := range contacts {
		l, err := parseProps(contacts[i].Properties)
		if err != nil {
			return fmt.Errorf("restore contact %s: %w", contacts[i].ID, err)
		}
		props[i] = l
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	for i, row := range contacts {
		m.seq = max(m.seq, row.Version)
		cur := m.contacts[row.ID]
		if cur != nil && cur.c.Version >= row.Version {
			continue
		}
		if cur == nil {
			cur = &memContact{}
			m.contacts[row.ID] = cur
		}
		cur.c = ownContact(row)
		cur.props = props[i]
	}
	for _, row := range aliases {
		m.seq = max(m.seq, row.Version)
		k := Key{Kind: row.Kind, Value: row.Value}
		cur, ok := m.aliases[k]
		if ok && cur.version >= row.Version {
			continue
		}
		if ok {
			if oc := m.contacts[cur.id]; oc != nil {
				oc.aliases.del(k)
			}
		}
		if row.Deleted {
			delete(m.aliases, k)
			continue
		}
		c := m.contacts[row.ContactID]
		k = ownKey(c, k)
		m.aliases[k] = memAlias{id: row.ContactID, version: row.Version}
		if c != nil {
			c.aliases.add(k)
		}
	}
	for _, row := range contacts {
		c := m.live(row.ID)
		if c == nil {
			continue
		}
		for slot := range numSlots {
			v := *c.column(slot)
			if v == "" {
				continue
			}
			k := Key{Kind: slotKinds[slot], Value: v}
			a, ok := m.aliases[k]
			if ok && m.live(a.id) != nil {
				continue
			}
			if ok {
				if oc := m.contacts[a.id]; oc != nil {
					oc.aliases.del(k)
				}
			}
			m.aliases[k] = memAlias{id: c.c.ID, version: c.c.Version}
			c.aliases.add(k)
		}
	}
	for _, k := range apiKeysInVersionOrder(s.APIKeys) {
		k = ownAPIKey(k)
		m.apiKeys[k.Hash] = k
	}
	wall := time.Now().UnixMilli()
	for _, cl := range s.Idempotency {
		if cur := m.idem[cl.Key]; cl.ExpiresAt > wall && (cl.ExpiresAt > cur.exp || cur.pending) {
			m.idem[strings.Clone(cl.Key)] = memClaim{exp: cl.ExpiresAt}
		}
	}
	return nil
}

// ownContact is row without its properties (props holds them) and with its
// strings copied.
func ownContact(row canonical.Contact) canonical.Contact {
	row.Properties = nil
	row.ExternalID, row.Email = strings.Clone(row.ExternalID), strings.Clone(row.Email)
	row.AnonymousID, row.Source = strings.Clone(row.AnonymousID), strings.Clone(row.Source)
	return row
}

// parseProps splits a stored JSON object into a propList, copying what it
// keeps. The members are sorted once, not inserted one by one: null members
// are skipped and, of a repeated name, the last wins.
func parseProps(raw []byte) (propList, error) {
	if isNullJSON(raw) {
		return nil, nil
	}
	ms, ok := splitObject(raw, nil)
	if !ok {
		return nil, fmt.Errorf("properties are not a JSON object")
	}
	l := make(propList, 0, len(ms))
	for _, mb := range ms {
		name, ok := decodeJSONKey(mb.key)
		if !ok {
			return nil, fmt.Errorf("bad property name %s", mb.key)
		}
		if !isNullJSON(mb.val) {
			l = append(l, prop{name: name, raw: bytes.Clone(mb.val)})
		}
	}
	slices.SortStableFunc(l, func(a, b prop) int { return cmp.Compare(a.name, b.name) })
	out := l[:0]
	for i, p := range l {
		if i+1 < len(l) && l[i+1].name == p.name {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}
