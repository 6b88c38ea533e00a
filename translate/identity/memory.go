package identity

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

var _ Store = (*Memory)(nil)

// Memory is the in-process identity store of the embedded mode. One mutex
// guards everything: a Resolve call holds it for all its ops, which gives the
// same per-key atomicity as the Redis scripts at a fraction of the cost.
type Memory struct {
	mu       sync.Mutex
	contacts map[uuid.UUID]*memContact
	aliases  map[Key]memAlias
	idem     map[string]memClaim
	tickets  map[string]memTicket // pending claim tickets
	apiKeys  map[string]canonical.APIKey
	seq      uint64 // last version handed out
	claims   int    // claims since the last sweep of expired keys
}

// memContact is a contact with its properties and the alias keys pointing at it.
type memContact struct {
	c       canonical.Contact // Properties unused: props holds them
	props   propList
	aliases keySet
}

type memAlias struct {
	id      uuid.UUID
	version uint64
}

// NewMemory returns an empty in-process store.
func NewMemory() *Memory {
	return &Memory{
		contacts: make(map[uuid.UUID]*memContact),
		aliases:  make(map[Key]memAlias),
		idem:     make(map[string]memClaim),
		tickets:  make(map[string]memTicket),
		apiKeys:  make(map[string]canonical.APIKey),
	}
}

func (m *Memory) next() uint64 {
	m.seq++
	return m.seq
}

// live returns the contact with id if it exists and is not deleted.
func (m *Memory) live(id uuid.UUID) *memContact {
	if c := m.contacts[id]; c != nil && c.c.DeletedAt == 0 {
		return c
	}
	return nil
}

// aliasLive returns the live contact an alias points at.
func (m *Memory) aliasLive(kind, value string) *memContact {
	if a, ok := m.aliases[Key{Kind: kind, Value: value}]; ok {
		return m.live(a.id)
	}
	return nil
}

// result copies a contact's state out, with its properties as JSON.
func (c *memContact) result() canonical.Contact {
	out := c.c
	out.Properties = c.props.appendJSON(make([]byte, 0, c.props.jsonSize()))
	return out
}

// ownKey returns k made of strings the store owns, so that no request
// buffer stays reachable through the indexes: the kind's constant, and the
// identity column of c (which may be nil) when it holds the same value (one
// copy serves both), else a copy.
func ownKey(c *memContact, k Key) Key {
	s := slotOf(k.Kind)
	if s < 0 {
		return Key{Kind: strings.Clone(k.Kind), Value: strings.Clone(k.Value)}
	}
	k.Kind = slotKinds[s]
	if c != nil {
		if col := *c.column(s); col == k.Value {
			k.Value = col
			return k
		}
	}
	k.Value = strings.Clone(k.Value)
	return k
}

// column returns the identity column of a key slot.
func (c *memContact) column(slot int) *string {
	switch slot {
	case slotExternal:
		return &c.c.ExternalID
	case slotEmail:
		return &c.c.Email
	}
	return &c.c.AnonymousID
}

// ReleaseIdempotency forgets claimed keys.
func (m *Memory) ReleaseIdempotency(_ context.Context, keys []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.idem, k)
	}
	return nil
}

// claim claims op's idempotency key unless a live claim holds it.
func (m *Memory) claim(op *ResolveOp, r *ResolveResult, wall int64) {
	if op.IdempotencyKey == "" {
		return
	}
	if c, ok := m.idem[op.IdempotencyKey]; ok && c.exp > wall && !c.stale(op.Now, wall) {
		if c.pending {
			r.ClaimPending = true
		} else {
			r.Duplicate = true
		}
		return
	}
	exp := wall + min(idempotencyMillis(op), PendingClaimWindow.Milliseconds())
	key := strings.Clone(op.IdempotencyKey)
	var ticket string
	if op.ClaimTicket != "" {
		// The ticket's own copy serves all its claims.
		t, ok := m.tickets[op.ClaimTicket]
		if !ok {
			t.id = strings.Clone(op.ClaimTicket)
		}
		t.keys, t.exp = append(t.keys, key), max(t.exp, exp)
		m.tickets[t.id] = t
		ticket = t.id
	}
	m.idem[key] = memClaim{exp: exp, pending: true, ticket: ticket}
	// Expired keys are swept in bulk now and then rather than by a timer, so an
	// idle store costs nothing and a busy one amortises the scan.
	if m.claims++; m.claims >= 4096 && m.claims >= len(m.idem)/2 {
		m.claims = 0
		for k, c := range m.idem {
			if c.exp <= wall {
				delete(m.idem, k)
			}
		}
		for id, t := range m.tickets {
			if t.exp <= wall {
				delete(m.tickets, id)
			}
		}
	}
}

// matches returns the live contacts Find and Delete target: email first, then
// the external id, each followed through the alias index.
func (m *Memory) matches(email, userID string) []*memContact {
	var out []*memContact
	if email = NormalizeEmail(email); email != "" {
		if c := m.aliasLive(canonical.KindEmail, email); c != nil {
			out = append(out, c)
		}
	}
	if userID = NormalizeID(userID); userID != "" {
		if c := m.aliasLive(canonical.KindExternal, userID); c != nil && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// Find returns the live contacts matching email or userID.
func (m *Memory) Find(_ context.Context, email, userID string) ([]canonical.Contact, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cs := m.matches(email, userID)
	if len(cs) == 0 {
		return nil, nil
	}
	out := make([]canonical.Contact, len(cs))
	for i, c := range cs {
		out[i] = c.result()
	}
	return out, nil
}

// Delete soft-deletes the contacts Find would return and drops their aliases.
func (m *Memory) Delete(_ context.Context, email, userID string, now int64) ([]canonical.Contact, []canonical.Alias, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cs := m.matches(email, userID)
	if len(cs) == 0 {
		return nil, nil, nil
	}
	if now == 0 {
		now = time.Now().UnixMilli()
	}
	v := m.next()
	var contacts []canonical.Contact
	var tombs []canonical.Alias
	for _, c := range cs {
		c.c.DeletedAt, c.c.UpdatedAt, c.c.Version = now, now, v
		for _, k := range sortedKeys(c.aliases) {
			if a, ok := m.aliases[k]; ok && a.id == c.c.ID {
				delete(m.aliases, k)
				tombs = append(tombs, canonical.Alias{
					Kind: k.Kind, Value: k.Value, ContactID: c.c.ID,
					Deleted: true, Version: v, At: now,
				})
			}
		}
		c.aliases.clear()
		contacts = append(contacts, c.result())
	}
	return contacts, tombs, nil
}

// compareKeys compares as "kind:value" strings; no kind is a prefix of
// another, so comparing kind then value gives the same order.
func compareKeys(a, b Key) int {
	if a.Kind != b.Kind {
		if a.Kind < b.Kind {
			return -1
		}
		return 1
	}
	switch {
	case a.Value < b.Value:
		return -1
	case a.Value > b.Value:
		return 1
	}
	return 0
}

// PutAPIKey stores or replaces an API key.
func (m *Memory) PutAPIKey(_ context.Context, k canonical.APIKey) error {
	k = ownAPIKey(k)
	m.mu.Lock()
	m.apiKeys[k.Hash] = k
	m.mu.Unlock()
	return nil
}

// APIKey looks a key up by hash.
func (m *Memory) APIKey(_ context.Context, hash string) (canonical.APIKey, bool, error) {
	m.mu.Lock()
	k, ok := m.apiKeys[hash]
	m.mu.Unlock()
	k.Scopes, k.AllowedOrigins = slices.Clone(k.Scopes), slices.Clone(k.AllowedOrigins)
	return k, ok, nil
}

// ownAPIKey copies every string of k, so the store keeps none of the
// caller's memory.
func ownAPIKey(k canonical.APIKey) canonical.APIKey {
	k.Hash, k.Prefix, k.Name = strings.Clone(k.Hash), strings.Clone(k.Prefix), strings.Clone(k.Name)
	k.Scopes, k.AllowedOrigins = cloneStrings(k.Scopes), cloneStrings(k.AllowedOrigins)
	return k
}

// cloneStrings copies a slice and each of its strings.
func cloneStrings(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.Clone(s)
	}
	return out
}

// Ping always succeeds: the store is in process.
func (m *Memory) Ping(context.Context) error { return nil }

// Close does nothing; the state lives until the process ends.
func (m *Memory) Close() error { return nil }

// memClaim is one idempotency claim: pending until confirmed.
type memClaim struct {
	exp     int64 // wall-clock Unix ms
	pending bool
	ticket  string // the claim ticket it was made under, if any
}

// stale reports a pending ticketed claim whose ticket deadline has passed at
// the request time now (wall when zero), as the Redis store judges it.
func (c memClaim) stale(now, wall int64) bool {
	if !c.pending || c.ticket == "" {
		return false
	}
	if now == 0 {
		now = wall
	}
	deadline, _ := ticketDeadline(c.ticket)
	return now >= deadline
}

// memTicket lists the keys claimed under one ticket (id, the store's copy),
// until it is confirmed or its claims have expired.
type memTicket struct {
	id   string
	keys []string
	exp  int64
}

// ConfirmIdempotency marks claims confirmed for window.
func (m *Memory) ConfirmIdempotency(_ context.Context, keys, tickets []string, window time.Duration) error {
	if window <= 0 {
		window = DefaultIdempotencyWindow
	}
	exp := time.Now().UnixMilli() + window.Milliseconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		// Assigning to a string key stores the key given, even over an
		// existing entry: it must be the store's copy.
		m.idem[strings.Clone(k)] = memClaim{exp: exp}
	}
	for _, id := range tickets {
		for _, k := range m.tickets[id].keys {
			// A key released, or taken over since, is not this ticket's.
			if c, ok := m.idem[k]; ok && c.pending && c.ticket == id {
				m.idem[k] = memClaim{exp: exp}
			}
		}
		delete(m.tickets, id)
	}
	return nil
}
