package identity

import (
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// contactCache holds copies of contacts this process resolved, by the keys
// known to point at them, so that the resolve of a known person that
// changes nothing but last_seen is a touch instead of a full resolve. A copy
// is never trusted alone: every touch checks it against Redis in the same
// script (docs/redis-layout.md § 4). Safe for concurrent use: the keys are
// spread over shards of their own lock, as every resolve looks one up.
type contactCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

const cacheShards = 32

type cacheShard struct {
	mu       sync.Mutex
	keys     map[string]cachedKey
	bytes    int // an estimate of what keys and their copies hold
	maxBytes int
}

// cachedKey is the copy a key pointed at when it was last seen.
type cachedKey struct {
	c *cachedContact
	// rule is what the touch checks of the key's alias: '=' it must point
	// at the copy's contact; '0' it must be absent or point at it (the
	// external alias of a distinct id found by its anonymous alias).
	rule byte
}

// cachedContact is a copy of a contact as read at its Version; it is never
// changed, only replaced, and marked stale once a touch found it so.
type cachedContact struct {
	c     canonical.Contact
	stale atomic.Bool
}

// Per-entry overheads, for the byte estimate: a key's map entry, and a copy
// (a copy shared by several keys is counted under each, which only makes
// the estimate err high).
const (
	cachedKeyBytes     = 64
	cachedContactBytes = 256
)

func newContactCache(maxBytes int) *contactCache {
	cc := &contactCache{seed: maphash.MakeSeed()}
	for i := range cc.shards {
		cc.shards[i] = cacheShard{keys: make(map[string]cachedKey), maxBytes: max(1, maxBytes/cacheShards)}
	}
	return cc
}

func (cc *contactCache) shard(key string) *cacheShard {
	return &cc.shards[maphash.String(cc.seed, key)%cacheShards]
}

// contact returns the live copy key points at, if one is held.
func (cc *contactCache) contact(key string) (cachedKey, bool) {
	s := cc.shard(key)
	s.mu.Lock()
	k, ok := s.keys[key]
	s.mu.Unlock()
	if !ok || k.c.stale.Load() {
		return cachedKey{}, false
	}
	return k, true
}

// remember points keys at a copy of c, unless a key already points at a
// copy read at a later version.
func (cc *contactCache) remember(c *canonical.Contact, keys []string, rules []byte) {
	cp := &cachedContact{c: *c}
	cp.c.Properties = slices.Clip(cp.c.Properties)
	for i, key := range keys {
		s := cc.shard(key)
		s.mu.Lock()
		old, had := s.keys[key]
		if had && old.c.c.Version > c.Version && !old.c.stale.Load() {
			s.mu.Unlock()
			continue
		}
		if had {
			s.bytes -= entrySize(key, old.c)
		}
		s.keys[key] = cachedKey{c: cp, rule: rules[i]}
		s.bytes += entrySize(key, cp)
		s.evict()
		s.mu.Unlock()
	}
}

func entrySize(key string, c *cachedContact) int {
	return cachedKeyBytes + len(key) + cachedContactBytes + len(c.c.Properties) +
		len(c.c.Email) + len(c.c.ExternalID) + len(c.c.AnonymousID)
}

// clear drops everything: after a restore or a flush nothing held holds.
func (cc *contactCache) clear() {
	for i := range cc.shards {
		s := &cc.shards[i]
		s.mu.Lock()
		clear(s.keys)
		s.bytes = 0
		s.mu.Unlock()
	}
}

// evict drops keys, the first met in the map's random order, until a
// quarter of the shard's budget is free again.
func (s *cacheShard) evict() {
	if s.bytes <= s.maxBytes {
		return
	}
	target := s.maxBytes * 3 / 4
	for key, k := range s.keys {
		if s.bytes <= target {
			return
		}
		s.bytes -= entrySize(key, k.c)
		delete(s.keys, key)
	}
}
