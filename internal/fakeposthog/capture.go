package fakeposthog

import (
	"errors"
	"net/http"
	"sync"
)

// capture decodes, checks and counts a capture request; the whole request is
// refused for one bad event and nothing of it is counted.
func (s *Server) capture(r *http.Request, body []byte) answer {
	if rerr := methodIs(r, http.MethodGet, http.MethodPost); rerr != nil {
		return rerr.answer()
	}
	if f, scripted := s.CaptureScript.Next(); scripted {
		return faultAnswer(r, f)
	}
	b, enc, rerr := s.checkRequest(r, body)
	if rerr != nil {
		s.stats.refused()
		return rerr.answer()
	}
	if rerr := s.refusals.match(b.events); rerr != nil {
		s.stats.refused()
		return rerr.answer()
	}
	for i := range b.events {
		b.events[i].path = r.URL.Path
	}
	s.ledger.add(b.events)
	s.stats.accepted(enc, len(b.events))
	if r.URL.Query().Get("beacon") == "1" {
		return answer{status: http.StatusNoContent}
	}
	return jsonAnswer(http.StatusOK, okBody)
}

// checkRequest runs the capture stages: decode, then the payload checks.
func (s *Server) checkRequest(r *http.Request, body []byte) (batch, string, *refusal) {
	d, err := decodePayload(r, body)
	if err != nil {
		var derr *decodeError
		if errors.As(err, &derr) {
			return batch{}, "", badRequest("%s", derr.msg)
		}
		return batch{}, "", badRequest("failed to decode request: %v", err)
	}
	b, rerr := checkPayload(d.json, checkRules{token: s.opts.Token, allowMissingUUID: s.opts.AllowMissingUUID})
	return b, d.encoding, rerr
}

// Batches counts capture requests: accepted by wire encoding, refused, and
// the events accepted requests carried (duplicates included).
type Batches struct {
	Accepted   int
	Refused    int
	Events     int
	ByEncoding map[string]int
}

type batchStats struct {
	mu sync.Mutex
	b  Batches
}

func (st *batchStats) accepted(enc string, events int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.b.ByEncoding == nil {
		st.b.ByEncoding = map[string]int{}
	}
	st.b.Accepted++
	st.b.Events += events
	st.b.ByEncoding[enc]++
}

func (st *batchStats) refused() {
	st.mu.Lock()
	st.b.Refused++
	st.mu.Unlock()
}

func (st *batchStats) snapshot() Batches {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := st.b
	out.ByEncoding = make(map[string]int, len(st.b.ByEncoding))
	for k, v := range st.b.ByEncoding {
		out.ByEncoding[k] = v
	}
	return out
}
