package fakeposthog

import (
	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// Events returns the distinct events accepted, in arrival order; nil with
// Options.NoEventLog.
func (s *Server) Events() []Event {
	all := s.ledger.all()
	out := make([]Event, len(all))
	for i, e := range all {
		out[i] = e.public()
	}
	return out
}

// Event returns the event with uuid id; false when none was accepted or
// its body was not kept (Options.NoEventLog).
func (s *Server) Event(id string) (Event, bool) {
	key, err := uuid.Parse(id)
	if err != nil {
		return Event{}, false
	}
	e, kept, _ := s.ledger.find(key)
	if !kept {
		return Event{}, false
	}
	return e.public(), true
}

// Seen reports whether an event with uuid id was accepted, also with
// Options.NoEventLog.
func (s *Server) Seen(id string) bool {
	key, err := uuid.Parse(id)
	if err != nil {
		return false
	}
	_, _, seen := s.ledger.find(key)
	return seen
}

// Count is the number of distinct event uuids accepted.
func (s *Server) Count() int { return s.ledger.count() }

// Duplicates counts accepted events whose uuid had been counted before.
func (s *Server) Duplicates() int { return s.ledger.duplicates() }

// Batches counts the capture requests by outcome and wire encoding.
func (s *Server) Batches() Batches { return s.stats.snapshot() }

// Requests returns every request received, faults included, in arrival
// order; nil with Options.NoRequestLog.
func (s *Server) Requests() []fakeads.Request { return s.rec.Requests() }

// Received counts every request that reached the server.
func (s *Server) Received() int { return int(s.received.Load()) }
