package identity

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"math"
	"runtime"
	"sync"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// contactCache holds copies of contacts this process resolved, by the keys
// known to point at them, so that the resolve of a known person that
// changes nothing but last_seen is a touch instead of a full resolve. A copy
// is never trusted alone: every touch checks it against Redis in the same
// script (docs/redis-layout.md § 4). Safe for concurrent use: the keys are
// spread over shards of their own lock, as every resolve looks one up.
//
// The copies are records in arenas of bytes outside the Go heap, found
// through maps of hashes to offsets: nothing of the cache holds a pointer,
// so the collector neither scans its people nor counts them towards the
// heap's next target, however many it holds (docs/redis-layout.md § 4.1).
type contactCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

const cacheShards = 32

// cacheShard keeps its copies in two generations: new records go to cur;
// once cur is full, prev is dropped and cur becomes prev. A copy found in
// prev is written again into cur, so the people in use stay and those not
// seen for a generation go.
type cacheShard struct {
	mu        sync.Mutex
	cur, prev cacheGen
}

// cacheGen is one generation: records appended to an arena, found by the
// hash of their key.
type cacheGen struct {
	index map[uint64]uint32 // key hash → offset of its record in arena
	arena []byte            // written up to len; cap is the generation's budget
}

// cachedKey is what a key's record says, read without its text.
type cachedKey struct {
	id uuid.UUID
	// rule is what the touch checks of the key's alias: '=' it must point
	// at the copy's contact; '0' it must be absent or point at it (the
	// external alias of a distinct id found by its anonymous alias).
	rule   byte
	filled byte // recordExternal|recordEmail|recordAnonymous
}

// indexSlotBytes is what a key's index entry is counted: its map slot with
// its share of the map's spare room, 24–36 bytes as the map grows. The
// budget counts it with the record.
const indexSlotBytes = 32

// newContactCache maps the arenas of a cache of maxBytes; a size the system
// refuses to map is an error rather than a heap the size of it.
func newContactCache(maxBytes int) (*contactCache, error) {
	cc := &contactCache{seed: maphash.MakeSeed()}
	// Records are found by 32-bit offsets: a generation holds at most 4 GiB.
	genBytes := min(max(recordHead, maxBytes/cacheShards/2), math.MaxUint32)
	mem, err := mapArenas(genBytes * 2 * cacheShards)
	if err != nil {
		return nil, fmt.Errorf("identity cache of %d bytes: %w", maxBytes, err)
	}
	for i := range cc.shards {
		s := &cc.shards[i]
		off := i * 2 * genBytes
		s.cur = cacheGen{index: map[uint64]uint32{}, arena: mem[off : off : off+genBytes]}
		s.prev = cacheGen{index: map[uint64]uint32{}, arena: mem[off+genBytes : off+genBytes : off+2*genBytes]}
	}
	runtime.AddCleanup(cc, unmapArenas, mem)
	return cc, nil
}

// find returns what the record of the key kind:value says, if one is held.
// The key is built on the stack: a lookup allocates nothing.
func (cc *contactCache) find(kind, value string) (cachedKey, bool) {
	s, rec, ok := cc.lockedRecord(kind, value)
	defer s.mu.Unlock()
	if !ok {
		return cachedKey{}, false
	}
	return cachedKey{id: recordID(rec), rule: rec[0], filled: rec[1]}, true
}

// read is find that also fills c with the copy; c's text is a copy of its
// own (one allocation).
func (cc *contactCache) read(kind, value string, c *canonical.Contact) (cachedKey, bool) {
	s, rec, ok := cc.lockedRecord(kind, value)
	defer s.mu.Unlock()
	if !ok {
		return cachedKey{}, false
	}
	decodeRecord(rec, c)
	return cachedKey{id: recordID(rec), rule: rec[0], filled: rec[1]}, true
}

// lockedRecord locks the shard of the key kind:value and looks its record
// up; the caller unlocks the shard.
func (cc *contactCache) lockedRecord(kind, value string) (*cacheShard, []byte, bool) {
	var buf [96]byte
	key := append(append(append(buf[:0], kind...), ':'), value...)
	h := maphash.Bytes(cc.seed, key)
	s := cc.shard(h)
	s.mu.Lock()
	rec, ok := s.lookup(h, key)
	return s, rec, ok
}

// remember writes a copy of c for each of keys, with its rule, unless a
// key already has a copy read at a later version.
func (cc *contactCache) remember(c *canonical.Contact, keys []string, rules []byte) {
	for i, key := range keys {
		h := cc.hash(key)
		s := cc.shard(h)
		s.mu.Lock()
		if rec, ok := s.peek(h, []byte(key)); !ok || recordVersion(rec) <= c.Version {
			s.write(h, key, rules[i], c)
		}
		s.mu.Unlock()
	}
}

// drop forgets the copy of the key kind:value if it is one of contact id:
// a touch found it stale.
func (cc *contactCache) drop(kind, value string, id uuid.UUID) {
	key := kind + ":" + value
	h := cc.hash(key)
	s := cc.shard(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec, ok := s.peek(h, []byte(key)); ok && recordID(rec) == id {
		delete(s.cur.index, h)
		delete(s.prev.index, h)
	}
}

// clear drops everything: after a restore or a flush nothing held holds.
func (cc *contactCache) clear() {
	for i := range cc.shards {
		s := &cc.shards[i]
		s.mu.Lock()
		s.cur.reset()
		s.prev.reset()
		s.mu.Unlock()
	}
}

func (cc *contactCache) hash(key string) uint64 { return maphash.String(cc.seed, key) }

func (cc *contactCache) shard(h uint64) *cacheShard { return &cc.shards[h%cacheShards] }

// peek returns the record of key, whose hash is h, from cur or prev, where
// it stays: for writers, which replace or drop it anyway.
func (s *cacheShard) peek(h uint64, key []byte) ([]byte, bool) {
	if rec, ok := s.cur.record(h, key); ok {
		return rec, true
	}
	return s.prev.record(h, key)
}

// lookup returns the record of key, whose hash is h: from cur, or from
// prev, whence it is written again into cur if cur has room.
func (s *cacheShard) lookup(h uint64, key []byte) ([]byte, bool) {
	if rec, ok := s.cur.record(h, key); ok {
		return rec, true
	}
	rec, ok := s.prev.record(h, key)
	if !ok {
		return nil, false
	}
	if s.cur.fits(len(rec)) {
		off := len(s.cur.arena)
		s.cur.arena = append(s.cur.arena, rec...)
		s.cur.index[h] = uint32(off)
		delete(s.prev.index, h)
		rec = s.cur.arena[off:]
	}
	return rec, true
}

// write appends key's record of c to cur, after dropping prev when cur is
// full. A record larger than a generation is not kept, nor its older copy.
func (s *cacheShard) write(h uint64, key string, rule byte, c *canonical.Contact) {
	size := recordSize(key, c)
	if len(key) > maxRecordKey || size+indexSlotBytes > cap(s.cur.arena) {
		delete(s.cur.index, h)
		delete(s.prev.index, h)
		return
	}
	if !s.cur.fits(size) {
		s.prev.reset()
		s.cur, s.prev = s.prev, s.cur
	}
	off := len(s.cur.arena)
	s.cur.arena = appendRecord(s.cur.arena, key, rule, c)
	s.cur.index[h] = uint32(off)
	delete(s.prev.index, h)
}

// record returns g's record of key, whose hash is h.
func (g *cacheGen) record(h uint64, key []byte) ([]byte, bool) {
	off, ok := g.index[h]
	if !ok {
		return nil, false
	}
	rec := g.arena[off:]
	rec = rec[:recordLen(rec)]
	if !bytes.Equal(recordKey(rec), key) {
		return nil, false // another key of the same hash
	}
	return rec, true
}

// fits reports whether a record of size bytes and its index entry are
// within g's budget.
func (g *cacheGen) fits(size int) bool {
	return len(g.arena)+size+indexSlotBytes*(len(g.index)+1) <= cap(g.arena)
}

func (g *cacheGen) reset() {
	g.arena = g.arena[:0]
	clear(g.index)
}
