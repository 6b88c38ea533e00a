package identity

import (
	"hash/maphash"
	"slices"
	"strings"
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
	// used is set when a key's lookup finds the copy, and cleared by the
	// eviction pass that spares it for that (a second chance).
	used atomic.Bool
}

// Per-entry overheads, for the byte estimate: a key's map slot with its
// share of the map's spare room, and a copy's struct in its allocation
// size class; strings count their length rounded up to a word. A copy
// shared by several keys is counted under each, which errs high.
// TestCacheEstimateErrsHigh holds both against the Go heap.
const (
	cachedKeyBytes     = 96
	cachedContactBytes = 160
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

// contact returns the live copy the key kind:value points at, if one is
// held. The key is built on the stack: a lookup allocates nothing.
func (cc *contactCache) contact(kind, value string) (cachedKey, bool) {
	var buf [96]byte
	key := append(append(append(buf[:0], kind...), ':'), value...)
	s := &cc.shards[maphash.Bytes(cc.seed, key)%cacheShards]
	s.mu.Lock()
	k, ok := s.keys[string(key)]
	s.mu.Unlock()
	if !ok || k.c.stale.Load() {
		return cachedKey{}, false
	}
	if !k.c.used.Load() {
		k.c.used.Store(true) // a store only when it changes keeps the line shared
	}
	return k, true
}

// remember points keys at a copy of c, unless a key already points at a
// copy read at a later version.
func (cc *contactCache) remember(c *canonical.Contact, keys []string, rules []byte) {
	cp := &cachedContact{c: *c}
	cp.c.Properties = slices.Clip(cp.c.Properties)
	for _, key := range keys {
		shareColumn(&cp.c, key)
	}
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

// shareColumn points the identity column a key names at the key's own
// bytes, so that a copy does not keep the reply's string of the same value
// alive beside the key (a person's email, twice, for every copy).
func shareColumn(c *canonical.Contact, key string) {
	kind, value, ok := strings.Cut(key, ":")
	if !ok {
		return
	}
	switch {
	case kind == canonical.KindEmail && c.Email == value:
		c.Email = value
	case kind == canonical.KindExternal && c.ExternalID == value:
		c.ExternalID = value
	case kind == canonical.KindAnonymous && c.AnonymousID == value:
		c.AnonymousID = value
	}
}

func entrySize(key string, c *cachedContact) int {
	return cachedKeyBytes + words(len(key)) + cachedContactBytes + words(len(c.c.Properties)) +
		words(len(c.c.Email)) + words(len(c.c.ExternalID)) + words(len(c.c.AnonymousID))
}

// words rounds n up to the 8 bytes the allocator hands out at the least.
func words(n int) int { return (n + 7) &^ 7 }

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

// evict drops keys until a sixteenth of the shard's budget is free again,
// so that the shard stays nearly full. The map's iteration starts at a
// random place; a copy found since the last pass is spared once (its mark
// cleared), so the people in use stay and those not seen since go first.
func (s *cacheShard) evict() {
	if s.bytes <= s.maxBytes {
		return
	}
	target := s.maxBytes - s.maxBytes/evictFraction
	for pass := 0; pass < 2 && s.bytes > target; pass++ {
		for key, k := range s.keys {
			if s.bytes <= target {
				return
			}
			if pass == 0 && k.c.used.Swap(false) {
				continue
			}
			s.bytes -= entrySize(key, k.c)
			delete(s.keys, key)
		}
	}
}

// evictFraction: an eviction frees 1/evictFraction of the shard's budget, a
// few dozen keys, so that one pass's cost is spread over as many misses.
const evictFraction = 16
