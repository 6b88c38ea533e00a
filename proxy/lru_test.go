package proxy

import "testing"

func TestLRUEvictsLeastRecentlyUsed(t *testing.T) {
	l := newLRU[string, int](3)
	l.put("a", 1, 100)
	l.put("b", 2, 100)
	l.put("c", 3, 100)
	if v, ok := l.get("a", 0); !ok || *v != 1 {
		t.Fatal("a missing")
	}
	l.put("d", 4, 100) // evicts b, the least recently used
	f := func(k string, want int, ok bool) {
		t.Helper()
		v, got := l.get(k, 0)
		if got != ok || (ok && *v != want) {
			t.Fatalf("get(%q) = %v %v, want %d %v", k, v, got, want, ok)
		}
	}
	f("b", 0, false)
	f("a", 1, true)
	f("c", 3, true)
	f("d", 4, true)
	if l.len() != 3 {
		t.Fatalf("len %d, want 3", l.len())
	}
	l.put("c", 30, 100) // replaces in place
	f("c", 30, true)
	l.remove("a")
	f("a", 0, false)
	if l.len() != 2 {
		t.Fatalf("len %d after remove, want 2", l.len())
	}
}

func TestLRUExpiry(t *testing.T) {
	l := newLRU[string, int](2)
	l.put("a", 1, 10)
	if _, ok := l.get("a", 9); !ok {
		t.Fatal("a expired early")
	}
	if _, ok := l.get("a", 10); ok {
		t.Fatal("a alive at its expiry")
	}
	if l.len() != 0 {
		t.Fatalf("expired entry kept: len %d", l.len())
	}
	v, _ := func() (*int, bool) { l.put("b", 1, 10); return l.get("b", 0) }()
	*v = 5
	if w, _ := l.get("b", 0); *w != 5 {
		t.Fatalf("update through the pointer lost: %d", *w)
	}
}

// An LRU holds its whole capacity though its map starts smaller, and
// evicts only past it.
func TestLRUGrowsToItsCapacity(t *testing.T) {
	const capacity = 4 * lruInitialEntries
	l := newLRU[int, int](capacity)
	for i := range capacity {
		l.put(i, i, 100)
	}
	if l.len() != capacity {
		t.Fatalf("len %d, want %d", l.len(), capacity)
	}
	if v, ok := l.get(0, 0); !ok || *v != 0 {
		t.Fatal("the first entry was evicted before the LRU was full")
	}
	l.put(capacity, capacity, 100) // evicts 1, now the least recently used
	if _, ok := l.get(1, 0); ok || l.len() != capacity {
		t.Fatalf("past capacity: 1 kept %v, len %d", ok, l.len())
	}
}
