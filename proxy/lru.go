package proxy

// lru is a map bounded to a number of entries, each with an expiry: when full,
// a new entry replaces the least recently used one. It is not safe for
// concurrent use; its owner holds a lock.
type lru[K comparable, V any] struct {
	capacity int
	items    map[K]*lruEntry[K, V]
	ring     lruEntry[K, V] // sentinel: ring.next is the most recently used
}

type lruEntry[K comparable, V any] struct {
	key        K
	val        V
	expires    int64 // Unix ns
	prev, next *lruEntry[K, V]
}

// lruInitialEntries is the room an LRU's map starts with.
const lruInitialEntries = 256

func newLRU[K comparable, V any](capacity int) *lru[K, V] {
	// The map grows with use: sized for its capacity up front, an LRU
	// nobody fills would hold its whole capacity's memory.
	l := &lru[K, V]{capacity: max(capacity, 1), items: make(map[K]*lruEntry[K, V], min(capacity, lruInitialEntries))}
	l.ring.prev, l.ring.next = &l.ring, &l.ring
	return l
}

// get returns the live entry of k, marking it used; an expired one is dropped.
// The value may be changed through the pointer until the owner's lock is released.
func (l *lru[K, V]) get(k K, now int64) (*V, bool) {
	e := l.items[k]
	if e == nil {
		return nil, false
	}
	if now >= e.expires {
		l.unlink(e)
		delete(l.items, k)
		return nil, false
	}
	l.unlink(e)
	l.pushFront(e)
	return &e.val, true
}

// put stores v under k until expires, evicting the least recently used entry
// when the map is full.
func (l *lru[K, V]) put(k K, v V, expires int64) {
	e := l.items[k]
	switch {
	case e != nil:
		l.unlink(e)
	case len(l.items) >= l.capacity:
		e = l.ring.prev
		l.unlink(e)
		delete(l.items, e.key)
		e.key = k
		l.items[k] = e
	default:
		e = &lruEntry[K, V]{key: k}
		l.items[k] = e
	}
	e.val, e.expires = v, expires
	l.pushFront(e)
}

// remove forgets k.
func (l *lru[K, V]) remove(k K) {
	if e := l.items[k]; e != nil {
		l.unlink(e)
		delete(l.items, k)
	}
}

func (l *lru[K, V]) len() int { return len(l.items) }

func (l *lru[K, V]) unlink(e *lruEntry[K, V]) {
	e.prev.next, e.next.prev = e.next, e.prev
}

func (l *lru[K, V]) pushFront(e *lruEntry[K, V]) {
	e.prev, e.next = &l.ring, l.ring.next
	l.ring.next.prev = e
	l.ring.next = e
}
