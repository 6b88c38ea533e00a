package fakeposthog

import (
	"encoding/json"
	"sync"

	"github.com/google/uuid"
)

// Event is one distinct captured event as the fake accepted it.
type Event struct {
	UUID       string
	Event      string
	DistinctID string
	// Timestamp is the event's RFC 3339 time as sent; "" when it came with
	// posthog-js's Offset instead.
	Timestamp string
	Offset    *int64
	// Properties is the properties object; nil when Options.NoEventLog.
	Properties map[string]any
	// IP is properties.$ip, "" without one.
	IP         string
	Historical bool
	Token      string
	// GeneratedUUID is true when the event came without a uuid and the fake
	// made UUID (Options.AllowMissingUUID).
	GeneratedUUID bool
	// Path is the route it arrived on, e.g. /batch/.
	Path string
}

// ledger keeps each uuid once, in arrival order, and counts the re-sent.
type ledger struct {
	mu     sync.Mutex
	seen   map[uuid.UUID]int // uuid → index in events, -1 when events are not kept
	events []stored
	dups   int
	lean   bool
}

func newLedger(lean bool) *ledger {
	return &ledger{seen: make(map[uuid.UUID]int), lean: lean}
}

// add records the batch's new events and counts the rest as duplicates;
// a uuid repeated inside one batch is a duplicate too.
func (l *ledger) add(events []stored) (fresh int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range events {
		if _, ok := l.seen[e.key]; ok {
			l.dups++
			continue
		}
		fresh++
		if l.lean {
			l.seen[e.key] = -1
			continue
		}
		l.seen[e.key] = len(l.events)
		l.events = append(l.events, e)
	}
	return fresh
}

func (l *ledger) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.seen)
}

func (l *ledger) duplicates() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dups
}

func (l *ledger) all() []stored {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]stored(nil), l.events...)
}

// find returns the event of a uuid; seen is true for a counted uuid whose
// event was not kept (Options.NoEventLog).
func (l *ledger) find(key uuid.UUID) (e stored, kept, seen bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i, seen := l.seen[key]
	if !seen || i < 0 {
		return stored{}, false, seen
	}
	return l.events[i], true, true
}

// public turns a stored event into what tests read, properties decoded.
func (e stored) public() Event {
	out := Event{UUID: e.uuid, Event: e.event, DistinctID: e.distinctID, Timestamp: e.timestamp,
		Offset: e.offset, IP: e.ip, Historical: e.historical, Token: e.token, Path: e.path, GeneratedUUID: e.generatedUUID}
	if e.props != "" {
		out.Properties = map[string]any{}
		_ = json.Unmarshal([]byte(e.props), &out.Properties)
	}
	return out
}
