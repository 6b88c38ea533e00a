package ingest

import (
	"sync"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// contactRowFilter decides whether an event's resolve needs a new contacts row
// in ClickHouse. A resolve that changed nothing but last_seen_at (the common
// case: a known person doing one more thing) writes a row at most once per
// lastSeenGranularity per contact, which halves the rows an event stream
// writes. The identity store keeps the exact last_seen_at; ClickHouse's is at
// most that stale.
type contactRowFilter struct {
	shards [64]contactRowShard
}

const (
	lastSeenGranularity = 60_000 // ms
	contactRowShardMax  = 1 << 14
)

type contactRowShard struct {
	mu      sync.Mutex
	written map[uuid.UUID]int64 // contact id → last_seen_at bucket last written
}

// needed reports whether res must be written, and remembers what was.
func (f *contactRowFilter) needed(res *identity.ResolveResult, propsChanged bool) bool {
	bucket := res.Contact.LastSeenAt / lastSeenGranularity
	id := res.Contact.ID
	s := &f.shards[id[15]&63]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written == nil || len(s.written) >= contactRowShardMax {
		// Bounded memory: forgetting only costs an extra row.
		s.written = make(map[uuid.UUID]int64, 1024)
	}
	if res.Created || res.Merged || len(res.Aliases) > 0 || propsChanged || s.written[id] != bucket {
		s.written[id] = bucket
		return true
	}
	return false
}

// forget drops what was remembered for id, after the row could not be made
// durable, so the next event writes it.
func (f *contactRowFilter) forget(id uuid.UUID) {
	s := &f.shards[id[15]&63]
	s.mu.Lock()
	delete(s.written, id)
	s.mu.Unlock()
}
