package fakeposthog

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// RefuseNext answers the next capture request with status and body,
// whatever it carries: a batch refused once, for a sender to dead-letter.
func (s *Server) RefuseNext(status int, body string) {
	s.CaptureScript.Push(fakeads.Fault{Status: status, Body: body})
}

// Throttle answers the next n capture requests 429 with Retry-After, as
// PostHog's per-token limiter does.
func (s *Server) Throttle(n int, retryAfter time.Duration) {
	s.CaptureScript.FailNext(n, fakeads.Fault{Status: 429, Body: `{"status":"error","error":"rate limited"}`,
		Header: map[string]string{"Retry-After": strconv.Itoa(int(retryAfter.Seconds()))}})
}

// RefuseEvent refuses, with status and body, every capture request carrying
// the event uuid id until AcceptEvent: a batch PostHog refuses for good,
// however often it is re-sent. An invalid id refuses nothing.
func (s *Server) RefuseEvent(id string, status int, body string) {
	key, err := uuid.Parse(id)
	if err != nil {
		return
	}
	s.refusals.set(key, &refusal{status: status, text: body})
}

// AcceptEvent ends RefuseEvent for id, so a replay is taken.
func (s *Server) AcceptEvent(id string) {
	if key, err := uuid.Parse(id); err == nil {
		s.refusals.set(key, nil)
	}
}

// refusals are the uuids whose batches are refused for good.
type refusals struct {
	mu   sync.Mutex
	byID map[uuid.UUID]*refusal
}

func (rs *refusals) set(key uuid.UUID, r *refusal) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if r == nil {
		delete(rs.byID, key)
		return
	}
	if rs.byID == nil {
		rs.byID = map[uuid.UUID]*refusal{}
	}
	rs.byID[key] = r
}

// match is the refusal of the first event that has one, nil for none.
func (rs *refusals) match(events []stored) *refusal {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.byID) == 0 {
		return nil
	}
	for _, e := range events {
		if r := rs.byID[e.key]; r != nil {
			return r
		}
	}
	return nil
}

// faultAnswer is a capture script's fault as an answer, after its delay;
// status 0 when the client gave up first.
func faultAnswer(r *http.Request, f fakeads.Fault) answer {
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return answer{}
		}
	}
	a := bodyAnswer(f.Status, f.Body)
	a.header = f.Header
	return a
}
