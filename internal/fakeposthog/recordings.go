package fakeposthog

import "net/http"

// recordingEvents name the snapshot events posthog-js posts to /s/.
var recordingEvents = map[string]bool{"$snapshot": true, "$snapshot_items": true}

// recording takes a /s/ request checked like capture and counts its
// snapshot events; recordings are not kept.
func (s *Server) recording(r *http.Request, body []byte) answer {
	if rerr := methodIs(r, http.MethodPost); rerr != nil {
		return rerr.answer()
	}
	b, _, rerr := s.checkRequest(r, body)
	if rerr != nil {
		return rerr.answer()
	}
	for _, e := range b.events {
		if !recordingEvents[e.event] {
			return badRequest("event %q is not a recording snapshot", e.event).answer()
		}
	}
	s.snapshots.Add(int64(len(b.events)))
	return jsonAnswer(http.StatusOK, okBody)
}

// Snapshots counts the snapshot events /s/ accepted.
func (s *Server) Snapshots() int { return int(s.snapshots.Load()) }
