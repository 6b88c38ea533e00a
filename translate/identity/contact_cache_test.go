package identity

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// cachePerson is the copy of person n the way a resolve returns it.
func cachePerson(n int) (*canonical.Contact, string) {
	email := fmt.Sprintf("user%d@bench.example", n)
	c := &canonical.Contact{ID: uuid.New(), Email: email, Source: "native",
		FirstSeenAt: 1, LastSeenAt: 2, CreatedAt: 1, UpdatedAt: 2, Version: uint64(n + 1)}
	return c, slotKey(slotEmail, email)
}

func testCache(t testing.TB, maxBytes int) *contactCache {
	t.Helper()
	cc, err := newContactCache(maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

// A cache the system cannot map (its 64 arenas of 4 GiB, the most a
// generation holds) is refused, not taken from the heap.
func TestCacheRefusesWhatCannotBeMapped(t *testing.T) {
	if mode, _ := os.ReadFile("/proc/sys/vm/overcommit_memory"); strings.TrimSpace(string(mode)) != "0" {
		t.Skip("the kernel maps what it is asked for only under its default overcommit heuristic")
	}
	if _, err := newContactCache(1 << 62); err == nil {
		t.Fatal("256 GiB of arenas were mapped")
	}
}

// lookup finds what the cache holds for a key, kind:value, and its copy.
func lookup(cc *contactCache, key string) (cachedKey, canonical.Contact, bool) {
	kind, value, _ := strings.Cut(key, ":")
	var c canonical.Contact
	k, ok := cc.read(kind, value, &c)
	return k, c, ok
}

// held counts the keys the cache finds and the bytes its arenas and their
// index entries take, as the budget counts them.
func (cc *contactCache) held() (bytes, keys int) {
	for i := range cc.shards {
		s := &cc.shards[i]
		s.mu.Lock()
		for _, g := range []*cacheGen{&s.cur, &s.prev} {
			bytes += len(g.arena) + indexSlotBytes*len(g.index)
			keys += len(g.index)
		}
		s.mu.Unlock()
	}
	return bytes, keys
}

// holds reports whether key is held, without moving its record.
func (cc *contactCache) holds(key string) bool {
	h := cc.hash(key)
	s := cc.shard(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, inCur := s.cur.record(h, []byte(key))
	_, inPrev := s.prev.record(h, []byte(key))
	return inCur || inPrev
}

// A copy comes back field for field, under every key it was kept under,
// with each key's rule and the identity columns it has.
func TestCacheKeepsEveryField(t *testing.T) {
	c := &canonical.Contact{ID: uuid.New(), ExternalID: "user-42", Email: "ada@example.com", AnonymousID: "anon-9",
		Properties: []byte(`{"plan":"pro","n":3}`), Source: "posthog", FirstSeenAt: 11, LastSeenAt: 22,
		CreatedAt: 33, UpdatedAt: 44, DeletedAt: 0, Version: 1 << 40}
	keys := []string{slotKey(slotExternal, "user-42"), slotKey(slotEmail, "ada@example.com"), distinctKey("anon-9")}
	rules := []byte{'=', '=', '0'}
	cc := testCache(t, 1<<20)
	cc.remember(c, keys, rules)
	for i, key := range keys {
		k, got, ok := lookup(cc, key)
		if !ok {
			t.Fatalf("%s: not held", key)
		}
		if k.id != c.ID || k.rule != rules[i] || k.filled != recordExternal|recordEmail|recordAnonymous {
			t.Errorf("%s: id %s rule %q filled %b", key, k.id, k.rule, k.filled)
		}
		if !reflect.DeepEqual(&got, c) {
			t.Errorf("%s: copy\n%+v\nwant\n%+v", key, got, *c)
		}
	}
	empty := &canonical.Contact{ID: uuid.New(), AnonymousID: "a", Version: 3}
	cc.remember(empty, []string{slotKey(slotAnonymous, "a")}, []byte{'='})
	k, got, ok := lookup(cc, slotKey(slotAnonymous, "a"))
	if !ok || k.filled != recordAnonymous || !reflect.DeepEqual(&got, empty) {
		t.Errorf("sparse copy: held %v filled %b\n%+v\nwant\n%+v", ok, k.filled, got, *empty)
	}
}

// Table of what a later remember does to a key's copy.
func TestCacheKeepsTheLaterVersion(t *testing.T) {
	id := uuid.New()
	key := slotKey(slotEmail, "v@example.com")
	for _, tc := range []struct {
		name  string
		first uint64
		then  uint64
		want  uint64
	}{
		{"newer replaces", 5, 7, 7},
		{"older is ignored", 7, 5, 7},
		{"same replaces", 5, 5, 5},
	} {
		cc := testCache(t, 1<<20)
		cc.remember(&canonical.Contact{ID: id, Email: "v@example.com", Version: tc.first}, []string{key}, []byte{'='})
		cc.remember(&canonical.Contact{ID: id, Email: "v@example.com", Version: tc.then}, []string{key}, []byte{'='})
		_, got, ok := lookup(cc, key)
		if !ok || got.Version != tc.want {
			t.Errorf("%s: held %v version %d, want %d", tc.name, ok, got.Version, tc.want)
		}
	}
}

// A copy dropped as stale is no longer found, and an older version may be
// kept in its place; a drop naming another contact changes nothing.
func TestCacheDrop(t *testing.T) {
	cc := testCache(t, 1<<20)
	c, key := cachePerson(1)
	c.Version = 9
	cc.remember(c, []string{key}, []byte{'='})
	kind, value, _ := strings.Cut(key, ":")
	cc.drop(kind, value, uuid.New())
	if !cc.holds(key) {
		t.Fatal("a drop naming another contact dropped the copy")
	}
	cc.drop(kind, value, c.ID)
	if cc.holds(key) {
		t.Fatal("the stale copy is still held")
	}
	c.Version = 4
	cc.remember(c, []string{key}, []byte{'='})
	if _, got, ok := lookup(cc, key); !ok || got.Version != 4 {
		t.Fatalf("after the drop: held %v version %d, want 4", ok, got.Version)
	}
}

// The arenas and their index entries never exceed the budget, and once
// full the cache holds at least half of what the budget has room for.
func TestCacheKeepsItsBudget(t *testing.T) {
	const budget = 1 << 20
	cc := testCache(t, budget)
	rules := []byte{'='}
	c0, key0 := cachePerson(0)
	perPerson := recordSize(key0, c0) + indexSlotBytes
	fewest := 1 << 30
	for n := range 40_000 {
		c, key := cachePerson(n)
		cc.remember(c, []string{key}, rules)
		held, keys := cc.held()
		if held > budget {
			t.Fatalf("after %d people the cache holds %d bytes, over its budget of %d", n+1, held, budget)
		}
		if n > 2*budget/perPerson {
			fewest = min(fewest, keys)
		}
	}
	if want := budget / 2 / perPerson * 9 / 10; fewest < want {
		t.Fatalf("once full, the cache held as few as %d people, want ≥ %d", fewest, want)
	}
}

// People looked up while others come in survive every generation dropped.
func TestCacheKeepsPeopleInUse(t *testing.T) {
	const people = 4_000
	rules := []byte{'='}
	c0, key0 := cachePerson(0)
	cc := testCache(t, people*(recordSize(key0, c0)+indexSlotBytes))
	var hot []string
	for n := range people / 4 {
		c, key := cachePerson(n)
		cc.remember(c, []string{key}, rules)
		hot = append(hot, key)
	}
	for n := people / 4; n < 4*people; n++ {
		for _, k := range hot[n%8*len(hot)/8 : (n%8+1)*len(hot)/8] {
			if _, _, ok := lookup(cc, k); !ok {
				t.Fatalf("person in use %s evicted after %d others came in", k, n)
			}
		}
		c, key := cachePerson(n)
		cc.remember(c, []string{key}, rules)
	}
	cold, _ := cachePerson(people / 4)
	if cc.holds(slotKey(slotEmail, cold.Email)) {
		t.Fatal("nothing was evicted: the test did not fill the cache")
	}
}

// A copy larger than a generation is not kept, nor the older copy it
// replaces.
func TestCacheRefusesOversizedCopies(t *testing.T) {
	cc := testCache(t, 64<<10)
	c, key := cachePerson(1)
	cc.remember(c, []string{key}, []byte{'='})
	big := *c
	big.Version++
	big.Properties = []byte(`{"blob":"` + strings.Repeat("x", 4<<10) + `"}`)
	cc.remember(&big, []string{key}, []byte{'='})
	if cc.holds(key) {
		t.Fatal("a copy larger than its generation, or the copy it replaced, is held")
	}
}

// Lookups, copies and generations dropped from many goroutines keep the
// budget.
func TestCacheConcurrentUse(t *testing.T) {
	const budget = 64 << 10
	cc := testCache(t, budget)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 2_000 {
				c, key := cachePerson(g*1_000 + n%1_500)
				if _, got, ok := lookup(cc, key); !ok {
					cc.remember(c, []string{key}, []byte{'='})
				} else if got.Email != c.Email {
					t.Errorf("key %s holds %s", key, got.Email)
				}
			}
		}()
	}
	wg.Wait()
	held, keys := cc.held()
	if held > budget || keys == 0 {
		t.Fatalf("%d keys in %d bytes, budget %d", keys, held, budget)
	}
}

// Planning a touch finds keys without allocating, and reads the copy with
// one allocation for its text.
func TestCacheLookupAllocations(t *testing.T) {
	cc := testCache(t, 1<<20)
	c, key := cachePerson(3)
	c.Properties = []byte(`{"plan":"pro"}`)
	cc.remember(c, []string{key}, []byte{'='})
	email := c.Email
	var got canonical.Contact
	finds := testing.AllocsPerRun(100, func() {
		if _, ok := cc.find("email", email); !ok {
			t.Fatal("not held")
		}
	})
	loads := testing.AllocsPerRun(100, func() {
		if _, ok := cc.read("email", email, &got); !ok {
			t.Fatal("not held")
		}
	})
	if finds != 0 || loads != 1 {
		t.Errorf("%v allocations a find (want 0), %v a read (want 1)", finds, loads)
	}
}

// The copies are outside the Go heap: holding 40,000 people grows the heap
// by their index entries only, not by their records.
func TestCacheIsOutsideTheHeap(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("the arenas come from the heap without mmap")
	}
	const people = 40_000
	c0, key0 := cachePerson(0)
	records := people * recordSize(key0, c0)
	contacts := make([]*canonical.Contact, people)
	keys := make([]string, people)
	for n := range people {
		contacts[n], keys[n] = cachePerson(n)
	}
	before := heapInUse()
	cc := testCache(t, 4*records)
	for n := range people {
		cc.remember(contacts[n], keys[n:n+1], []byte{'='})
	}
	grown := int64(heapInUse()) - int64(before)
	if _, held := cc.held(); held != people {
		t.Fatalf("%d people held, want %d", held, people)
	}
	runtime.KeepAlive(cc)
	runtime.KeepAlive(contacts)
	t.Logf("heap grew %d bytes for %d bytes of records", grown, records)
	if grown > int64(records)/4 {
		t.Fatalf("the heap grew by %d bytes for %d bytes of records: the copies are on the heap", grown, records)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC() // the pools' victims too
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Whatever a contact holds, its copy comes back equal.
func FuzzCacheRecord(f *testing.F) {
	f.Add("user-1", "a@example.com", "anon", "native", []byte(`{"a":1}`), int64(5), uint64(9), "email:a@example.com")
	f.Add("", "", "d", "", []byte(nil), int64(0), uint64(0), "d:d")
	f.Fuzz(func(t *testing.T, ext, email, anon, source string, props []byte, at int64, version uint64, key string) {
		if len(props) == 0 {
			props = nil
		}
		if len(key) > maxRecordKey {
			return
		}
		c := &canonical.Contact{ID: uuid.New(), ExternalID: ext, Email: email, AnonymousID: anon, Source: source,
			Properties: props, FirstSeenAt: at, LastSeenAt: at + 1, CreatedAt: -at, UpdatedAt: at * 3, DeletedAt: at, Version: version}
		rec := appendRecord(nil, key, '=', c)
		if len(rec) != recordSize(key, c) || recordLen(rec) != len(rec) || string(recordKey(rec)) != key {
			t.Fatalf("record of %d bytes (size %d), says %d, key %q", len(rec), recordSize(key, c), recordLen(rec), recordKey(rec))
		}
		var got canonical.Contact
		decodeRecord(rec, &got)
		if !reflect.DeepEqual(&got, c) || recordID(rec) != c.ID || recordVersion(rec) != version {
			t.Fatalf("copy\n%+v\nwant\n%+v", got, *c)
		}
	})
}
