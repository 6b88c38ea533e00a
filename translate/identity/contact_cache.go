package identity

import (
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// contactCache holds copies of contacts this process resolved, and which of
// their keys point at them, so that the resolve of a known person that
// changes nothing but last_seen is a touch (lua/touch.lua) instead of a full
// resolve. A copy is never trusted alone: every touch checks it against
// Redis atomically (docs/redis-layout.md § 4). Safe for concurrent use.
type contactCache struct {
	mu       sync.Mutex
	keys     map[string]cachedKey
	contacts map[uuid.UUID]*cachedContact
	bytes    int // an estimate of what keys and contacts hold
	maxBytes int
}

// cachedKey is where an identity key pointed when it was last seen.
type cachedKey struct {
	id uuid.UUID
	// rule is what touch.lua checks of the key's alias: '=' it must point
	// at id; '0' it must be absent or point at id (the external alias of
	// a distinct id found by its anonymous alias).
	rule byte
}

// cachedContact is a copy of a contact as read at its Version.
type cachedContact struct {
	c canonical.Contact
}

// Per-entry overheads of the maps, for the byte estimate.
const (
	cachedKeyBytes     = 64
	cachedContactBytes = 256
)

func newContactCache(maxBytes int) *contactCache {
	return &contactCache{
		keys:     make(map[string]cachedKey),
		contacts: make(map[uuid.UUID]*cachedContact),
		maxBytes: maxBytes,
	}
}

// contact returns the copy a key points at, if both are held.
func (cc *contactCache) contact(key string) (cachedKey, canonical.Contact, bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	k, ok := cc.keys[key]
	if !ok {
		return k, canonical.Contact{}, false
	}
	c, ok := cc.contacts[k.id]
	if !ok {
		return k, canonical.Contact{}, false
	}
	return k, c.c, true
}

// remember stores c, unless a copy read at a later version is held, and
// points keys at it.
func (cc *contactCache) remember(c *canonical.Contact, keys []string, rules []byte) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if old, ok := cc.contacts[c.ID]; !ok || old.c.Version < c.Version {
		if ok {
			cc.bytes -= cachedContactBytes + len(old.c.Properties)
		}
		cp := *c
		cp.Properties = slices.Clip(cp.Properties)
		cc.contacts[c.ID] = &cachedContact{c: cp}
		cc.bytes += cachedContactBytes + len(cp.Properties)
	}
	for i, k := range keys {
		if _, ok := cc.keys[k]; !ok {
			cc.bytes += cachedKeyBytes + len(k)
		}
		cc.keys[k] = cachedKey{id: c.ID, rule: rules[i]}
	}
	cc.evict()
}

// forget drops the copy of id; keys pointing at it miss until remembered.
func (cc *contactCache) forget(id uuid.UUID) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if old, ok := cc.contacts[id]; ok {
		cc.bytes -= cachedContactBytes + len(old.c.Properties)
		delete(cc.contacts, id)
	}
}

// clear drops everything: after a restore or a flush nothing held holds.
func (cc *contactCache) clear() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	clear(cc.keys)
	clear(cc.contacts)
	cc.bytes = 0
}

// evict drops entries, the first met in the maps' random order, until a
// quarter of the budget is free again; keys go first, as a key without its
// contact only misses.
func (cc *contactCache) evict() {
	if cc.bytes <= cc.maxBytes {
		return
	}
	target := cc.maxBytes * 3 / 4
	for k := range cc.keys {
		if cc.bytes <= target {
			return
		}
		delete(cc.keys, k)
		cc.bytes -= cachedKeyBytes + len(k)
		// Half as many contacts as keys, so both shrink.
		if rand.IntN(2) == 0 {
			cc.dropOneContact()
		}
	}
	for cc.bytes > target && len(cc.contacts) > 0 {
		cc.dropOneContact()
	}
}

func (cc *contactCache) dropOneContact() {
	for id, c := range cc.contacts {
		cc.bytes -= cachedContactBytes + len(c.c.Properties)
		delete(cc.contacts, id)
		return
	}
}
