package ingest

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// pendingIdentity holds the contact and alias rows of resolves whose batch
// could not be made durable: the identity store already applied them, and a
// retry's resolve finds nothing left to change, so without them a merge or a
// delete would never reach ClickHouse. Rows are grouped by person (the id of
// the contact the resolve returned), carried by the next durable write that
// touches that person, and dropped once a durable batch held them (or a newer
// version of them). Every row is versioned (ReplacingMergeTree), so writing
// one again, or after a newer one, changes nothing.
type pendingIdentity struct {
	mu     sync.Mutex
	people map[uuid.UUID]*pendingPerson
	// contactOwner and aliasOwner name the person each held row is filed under.
	contactOwner map[uuid.UUID]uuid.UUID
	aliasOwner   map[aliasKey]uuid.UUID
	bytes        int
	maxBytes     int
	// rows is the number of held rows, read without the lock on every write.
	rows atomic.Int64
}

type pendingPerson struct {
	contacts map[uuid.UUID]canonical.Contact
	aliases  map[aliasKey]canonical.Alias
}

type aliasKey struct{ kind, value string }

func newPendingIdentity(maxBytes int) *pendingIdentity {
	return &pendingIdentity{
		people:       make(map[uuid.UUID]*pendingPerson),
		contactOwner: make(map[uuid.UUID]uuid.UUID),
		aliasOwner:   make(map[aliasKey]uuid.UUID),
		maxBytes:     maxBytes,
	}
}

// empty reports whether nothing is held; it takes no lock.
func (p *pendingIdentity) empty() bool { return p.rows.Load() == 0 }

// full reports whether the held rows reached their bound.
func (p *pendingIdentity) full() bool {
	if p.empty() {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bytes >= p.maxBytes
}

// size is the number of held rows and their estimated bytes.
func (p *pendingIdentity) size() (rows, bytes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int(p.rows.Load()), p.bytes
}

// keep files the rows of one resolve under owner, the contact it returned.
// A contact row of another held person (a merge's loser) brings that
// person's rows along: the next write touches the survivor, not the loser.
// Rows are copied: the originals may be views of a request's body.
func (p *pendingIdentity) keep(owner uuid.UUID, contacts []canonical.Contact, aliases []canonical.Alias) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range contacts {
		if o, ok := p.contactOwner[contacts[i].ID]; ok && o != owner {
			p.moveLocked(o, owner)
		}
		if _, ok := p.people[contacts[i].ID]; ok && contacts[i].ID != owner {
			p.moveLocked(contacts[i].ID, owner)
		}
	}
	for i := range contacts {
		p.putContactLocked(owner, &contacts[i])
	}
	for i := range aliases {
		p.putAliasLocked(owner, &aliases[i])
	}
}

// moveLocked files every row of person from under person to.
func (p *pendingIdentity) moveLocked(from, to uuid.UUID) {
	src := p.people[from]
	if src == nil {
		return
	}
	delete(p.people, from)
	dst := p.personLocked(to)
	for id, c := range src.contacts {
		dst.contacts[id] = c
		p.contactOwner[id] = to
	}
	for k, a := range src.aliases {
		dst.aliases[k] = a
		p.aliasOwner[k] = to
	}
}

func (p *pendingIdentity) personLocked(owner uuid.UUID) *pendingPerson {
	pp := p.people[owner]
	if pp == nil {
		pp = &pendingPerson{contacts: make(map[uuid.UUID]canonical.Contact, 2), aliases: make(map[aliasKey]canonical.Alias, 4)}
		p.people[owner] = pp
	}
	return pp
}

// putContactLocked keeps the newer of c and the held row of its contact.
func (p *pendingIdentity) putContactLocked(owner uuid.UUID, c *canonical.Contact) {
	if o, ok := p.contactOwner[c.ID]; ok {
		old := p.people[o].contacts[c.ID]
		if old.Version >= c.Version {
			return
		}
		p.dropContactLocked(o, c.ID)
	}
	p.personLocked(owner).contacts[c.ID] = cloneContact(c)
	p.contactOwner[c.ID] = owner
	p.bytes += contactBytes(c)
	p.rows.Add(1)
}

// putAliasLocked keeps the newer of a and the held row of its key, filed
// under owner (a key moved by a later merge follows its newest row).
func (p *pendingIdentity) putAliasLocked(owner uuid.UUID, a *canonical.Alias) {
	k := aliasKey{a.Kind, a.Value}
	if o, ok := p.aliasOwner[k]; ok {
		old := p.people[o].aliases[k]
		if old.Version >= a.Version {
			return
		}
		p.dropAliasLocked(o, k)
	}
	c := cloneAlias(a)
	p.personLocked(owner).aliases[aliasKey{c.Kind, c.Value}] = c
	p.aliasOwner[aliasKey{c.Kind, c.Value}] = owner
	p.bytes += aliasBytes(a)
	p.rows.Add(1)
}

func (p *pendingIdentity) dropContactLocked(owner, id uuid.UUID) {
	pp := p.people[owner]
	c := pp.contacts[id]
	delete(pp.contacts, id)
	delete(p.contactOwner, id)
	p.bytes -= contactBytes(&c)
	p.rows.Add(-1)
	p.dropIfEmptyLocked(owner, pp)
}

func (p *pendingIdentity) dropAliasLocked(owner uuid.UUID, k aliasKey) {
	pp := p.people[owner]
	a := pp.aliases[k]
	delete(pp.aliases, k)
	delete(p.aliasOwner, k)
	p.bytes -= aliasBytes(&a)
	p.rows.Add(-1)
	p.dropIfEmptyLocked(owner, pp)
}

func (p *pendingIdentity) dropIfEmptyLocked(owner uuid.UUID, pp *pendingPerson) {
	if len(pp.contacts) == 0 && len(pp.aliases) == 0 {
		delete(p.people, owner)
	}
}

// holdsTombstone reports whether a held alias row deletes the email or
// external key (a delete not yet durable).
func (p *pendingIdentity) holdsTombstone(email, externalID string) bool {
	if p.empty() {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range [2]aliasKey{{canonical.KindEmail, email}, {canonical.KindExternal, externalID}} {
		if o, ok := p.aliasOwner[k]; ok && k.value != "" && p.people[o].aliases[k].Deleted {
			return true
		}
	}
	return false
}

// carry appends to b the held rows of the people ids belong to (a resolve's
// contact and its losers) and reports whether it added any.
func (p *pendingIdentity) carry(b *canonical.Batch, ids []uuid.UUID) bool {
	if p.empty() || len(ids) == 0 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var done []uuid.UUID
	for _, id := range ids {
		owner, ok := p.contactOwner[id]
		if !ok {
			if _, held := p.people[id]; !held {
				continue
			}
			owner = id
		}
		if slices.Contains(done, owner) {
			continue
		}
		done = append(done, owner)
		appendPerson(b, p.people[owner])
	}
	return len(done) > 0
}

// all appends every held row to b (a flush of its own).
func (p *pendingIdentity) all(b *canonical.Batch) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pp := range p.people {
		appendPerson(b, pp)
	}
}

func appendPerson(b *canonical.Batch, pp *pendingPerson) {
	for _, c := range pp.contacts {
		b.Contacts = append(b.Contacts, c)
	}
	for _, a := range pp.aliases {
		b.Aliases = append(b.Aliases, a)
	}
}

// settle drops the held rows a durable batch holds, at their version or a
// newer one. Rows filed since at a newer version stay.
func (p *pendingIdentity) settle(b *canonical.Batch) {
	if p.empty() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range b.Contacts {
		c := &b.Contacts[i]
		if o, ok := p.contactOwner[c.ID]; ok && p.people[o].contacts[c.ID].Version <= c.Version {
			p.dropContactLocked(o, c.ID)
		}
	}
	for i := range b.Aliases {
		a := &b.Aliases[i]
		k := aliasKey{a.Kind, a.Value}
		if o, ok := p.aliasOwner[k]; ok && p.people[o].aliases[k].Version <= a.Version {
			p.dropAliasLocked(o, k)
		}
	}
}

func cloneContact(c *canonical.Contact) canonical.Contact {
	out := *c
	out.ExternalID = strings.Clone(c.ExternalID)
	out.Email = strings.Clone(c.Email)
	out.AnonymousID = strings.Clone(c.AnonymousID)
	out.Source = strings.Clone(c.Source)
	out.Properties = bytes.Clone(c.Properties)
	return out
}

func cloneAlias(a *canonical.Alias) canonical.Alias {
	out := *a
	out.Kind = strings.Clone(a.Kind)
	out.Value = strings.Clone(a.Value)
	out.Reason = strings.Clone(a.Reason)
	return out
}

// contactBytes and aliasBytes estimate a held row's memory: its variable
// parts plus the struct and map entry.
func contactBytes(c *canonical.Contact) int {
	return 160 + len(c.ExternalID) + len(c.Email) + len(c.AnonymousID) + len(c.Source) + len(c.Properties)
}

func aliasBytes(a *canonical.Alias) int {
	return 128 + 2*(len(a.Kind)+len(a.Value)) + len(a.Reason)
}
