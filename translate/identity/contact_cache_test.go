package identity

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// cachePerson is the copy of person n the way a resolve returns it: fresh
// strings for its email and its key, as a reply's decoding makes them.
func cachePerson(n int) (*canonical.Contact, string) {
	email := fmt.Sprintf("user%d@bench.example", n)
	c := &canonical.Contact{ID: uuid.New(), Email: email, Source: "native",
		FirstSeenAt: 1, LastSeenAt: 2, CreatedAt: 1, UpdatedAt: 2, Version: uint64(n + 1)}
	return c, slotKey(slotEmail, email)
}

// lookup finds the copy of a key as the cache stores it, kind:value.
func lookup(cc *contactCache, key string) (cachedKey, bool) {
	kind, value, _ := strings.Cut(key, ":")
	return cc.contact(kind, value)
}

func (cc *contactCache) heldBytes() (n, keys int) {
	for i := range cc.shards {
		s := &cc.shards[i]
		s.mu.Lock()
		n, keys = n+s.bytes, keys+len(s.keys)
		s.mu.Unlock()
	}
	return n, keys
}

// holds reports whether key is held, without marking its copy as used.
func (cc *contactCache) holds(key string) bool {
	s := cc.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.keys[key]
	return ok
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// The budget is only a bound if the estimate is at least what the heap
// holds, and only used well if it is not far above it.
func TestCacheEstimateErrsHigh(t *testing.T) {
	const people = 40_000
	rules := []byte{'='}
	before := heapInUse()
	cc := newContactCache(1 << 30)
	for n := range people {
		c, key := cachePerson(n)
		cc.remember(c, []string{key}, rules)
	}
	heap := heapInUse() - before
	est, keys := cc.heldBytes()
	runtime.KeepAlive(cc)
	if keys != people {
		t.Fatalf("%d keys held, want %d", keys, people)
	}
	t.Logf("per person: estimate %d bytes, heap %d bytes", est/people, int(heap)/people)
	if uint64(est) < heap {
		t.Errorf("estimate %d bytes is below the heap's %d: the budget would not bound memory", est, heap)
	}
	if float64(est) > 1.5*float64(heap) {
		t.Errorf("estimate %d bytes is over 1.5× the heap's %d: the budget would hold too few people", est, heap)
	}
}

// After it first fills, the cache stays between 15/16 of its budget and the
// budget, whatever comes in.
func TestCacheStaysNearlyFull(t *testing.T) {
	const budget = 1 << 20
	cc := newContactCache(budget)
	rules := []byte{'='}
	low := budget
	filled := false
	for n := range 20_000 {
		c, key := cachePerson(n)
		cc.remember(c, []string{key}, rules)
		held, _ := cc.heldBytes()
		if held > budget {
			t.Fatalf("after %d people the cache holds %d bytes, over its budget of %d", n+1, held, budget)
		}
		if held > budget*15/16 {
			filled = true
		}
		if filled {
			low = min(low, held)
		}
	}
	// Each shard frees a sixteenth of its own budget, so the whole cache
	// never drops below about 15/16 of its budget once it is full.
	if !filled {
		t.Fatalf("the cache never held more than 15/16 of its budget of %d bytes", budget)
	}
	if low < budget*7/8 {
		t.Fatalf("once full, the cache fell to %d bytes of %d (want ≥ 7/8)", low, budget)
	}
}

// People looked up since the last eviction pass are the last to go.
func TestCacheSparesCopiesInUse(t *testing.T) {
	const people = 4_000
	rules := []byte{'='}
	_, per := cachePerson(0)
	c0, _ := cachePerson(0)
	budget := people * entrySize(per, &cachedContact{c: *c0})
	cc := newContactCache(budget)
	keys := make([]string, 0, people)
	for n := range people {
		c, key := cachePerson(n)
		cc.remember(c, []string{key}, rules)
		keys = append(keys, key)
	}
	// Shards fill unevenly, so some people were evicted already: the people
	// in use are half of those held.
	var hot, cold []string
	for _, k := range keys {
		if ok := cc.holds(k); ok && len(hot) < people/2 {
			hot = append(hot, k)
		} else if ok {
			cold = append(cold, k)
		}
	}
	for n := people; n < people+people/4; n++ {
		for _, k := range hot {
			lookup(cc, k)
		}
		c, key := cachePerson(n)
		cc.remember(c, []string{key}, rules)
	}
	lost := 0
	for _, k := range hot {
		if !cc.holds(k) {
			lost++
		}
	}
	evicted := 0
	for _, k := range cold {
		if !cc.holds(k) {
			evicted++
		}
	}
	if evicted == 0 {
		t.Fatal("nothing was evicted: the test did not fill the cache")
	}
	if lost > 0 {
		t.Fatalf("%d of %d people in use were evicted while %d of the rest were", lost, len(hot), evicted)
	}
}

// A copy's email is the key's own bytes, not a second string of them.
func TestCacheCopySharesItsKey(t *testing.T) {
	cc := newContactCache(1 << 20)
	c, key := cachePerson(7)
	cc.remember(c, []string{key}, []byte{'='})
	k, ok := lookup(cc, key)
	if !ok {
		t.Fatal("the copy is not held")
	}
	held, _ := cc.heldKey(key)
	email := k.c.c.Email
	if email != c.Email {
		t.Fatalf("email %q, want %q", email, c.Email)
	}
	if unsafe.StringData(email) != unsafe.StringData(held[len(key)-len(email):]) {
		t.Fatal("the copy's email is a string of its own beside the key")
	}
}

// heldKey returns the map's own key string equal to key.
func (cc *contactCache) heldKey(key string) (string, bool) {
	s := cc.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.keys {
		if k == key {
			return k, true
		}
	}
	return "", false
}

// Lookups, copies and evictions from many goroutines keep the budget.
func TestCacheConcurrentUse(t *testing.T) {
	const budget = 64 << 10
	cc := newContactCache(budget)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 2_000 {
				c, key := cachePerson(g*1_000 + n%1_500)
				if _, ok := lookup(cc, key); !ok {
					cc.remember(c, []string{key}, []byte{'='})
				}
			}
		}()
	}
	wg.Wait()
	held, keys := cc.heldBytes()
	if held > budget || keys == 0 {
		t.Fatalf("%d keys in %d bytes, budget %d", keys, held, budget)
	}
}

// A lookup builds its key on the stack: planning a touch of a cached
// person allocates nothing for the cache.
func TestCacheLookupAllocatesNothing(t *testing.T) {
	cc := newContactCache(1 << 20)
	c, key := cachePerson(3)
	cc.remember(c, []string{key}, []byte{'='})
	email := c.Email
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := cc.contact("email", email); !ok {
			t.Fatal("not held")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations a lookup, want 0", allocs)
	}
}
