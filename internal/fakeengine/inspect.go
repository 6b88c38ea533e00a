package fakeengine

import (
	"maps"
	"strings"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// Events returns the stored events in order of storage.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.events))
	for i, ev := range s.events {
		out[i] = *ev
	}
	return out
}

// StoredEvents is how many events are stored, without copying them: the
// cheap condition to wait on under load.
func (s *Server) StoredEvents() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

// StoredCount is how many stored events carry idempotencyKey: 1 at most,
// as the engine's unique index allows.
func (s *Server) StoredCount(idempotencyKey string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ev := range s.events {
		if ev.IdempotencyKey == idempotencyKey {
			n++
		}
	}
	return n
}

// Contacts returns every contact, deleted and merged-away ones included,
// in order of creation.
func (s *Server) Contacts() []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Contact, 0, len(s.contactOrder))
	for _, id := range s.contactOrder {
		out = append(out, copyContact(s.contacts[id]))
	}
	return out
}

// Contact returns the live contact an email (anything with an @) or a
// userId resolves to, aliases included.
func (s *Server) Contact(emailOrUserID string) (Contact, bool) {
	keys := normalise("", emailOrUserID, "")
	if strings.Contains(emailOrUserID, "@") {
		keys = normalise(emailOrUserID, "", "")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, kv := range keys.ordered() {
		if c := s.findLive(kv[0], kv[1]); c != nil {
			return copyContact(c), true
		}
	}
	return Contact{}, false
}

func copyContact(c *Contact) Contact {
	out := *c
	out.Properties = maps.Clone(c.Properties)
	return out
}

// States returns every journey state in order of entry.
func (s *Server) States() []JourneyState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]JourneyState, len(s.states))
	for i, st := range s.states {
		out[i] = *st
	}
	return out
}

// Subscribed reports the list flags set for an email.
func (s *Server) Subscribed(email string) map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.prefs[strings.ToLower(email)])
}

// Requests returns every request received (Path as sent, percent-encoded),
// scripted ones included, unless
// Options.NoRequestLog.
func (s *Server) Requests() []fakeads.Request { return s.rec.Requests() }

// Received is how many requests arrived, scripted and refused ones included.
func (s *Server) Received() int64 { return s.received.Load() }

// ReceivedOn is how many requests matched a route, named as
// "METHOD /pattern", e.g. "POST /v1/events" or "GET /v1/campaigns/:id".
func (s *Server) ReceivedOn(route string) int64 {
	for _, rt := range s.routes {
		if rt.method+" "+rt.pattern == route {
			return rt.count.Load()
		}
	}
	return 0
}
