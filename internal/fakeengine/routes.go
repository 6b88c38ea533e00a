package fakeengine

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// call is one request on its way through a route.
type call struct {
	r      *http.Request
	body   []byte
	p      principal
	params map[string]string
	now    time.Time
}

// route is one method and path pattern (":name" segments are parameters).
type route struct {
	method   string
	pattern  string
	segments []string
	guard    guard
	limited  bool // the 30/min per-key limit of /v1/emails
	handle   func(*call) answer
	count    atomic.Int64
}

func (s *Server) routeTable() []*route {
	type def struct {
		method, pattern string
		guard           guard
		handle          func(*call) answer
	}
	defs := []def{
		{"PUT", "/v1/contacts", guardIngestOrBrowser, s.upsertContact},
		{"GET", "/v1/contacts/find", guardIngest, s.findContacts},
		{"DELETE", "/v1/contacts", guardIngest, s.deleteContacts},
		{"GET", "/v1/contacts/me", guardIngestOrBrowser, s.contactMe},
		{"POST", "/v1/events", guardIngestOrBrowser, s.ingestEvent},
		{"GET", "/v1/health", guardNone, s.health},
	}
	for _, d := range s.otherRoutes() {
		defs = append(defs, def{d.method, d.pattern, d.guard, d.handle})
	}
	out := make([]*route, 0, len(defs))
	for _, d := range defs {
		out = append(out, &route{method: d.method, pattern: d.pattern, segments: strings.Split(d.pattern[1:], "/"),
			guard: d.guard, limited: strings.HasPrefix(d.pattern, "/v1/emails"), handle: d.handle})
	}
	return out
}

// match returns the route of r and its path parameters.
func (s *Server) match(r *http.Request) (*route, map[string]string) {
	// The escaped path, so that an encoded / stays inside its segment.
	segs := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	for _, rt := range s.routes {
		if rt.method != r.Method || len(rt.segments) != len(segs) {
			continue
		}
		if params, matched := matchSegments(rt.segments, segs); matched {
			return rt, params
		}
	}
	return nil, nil
}

func matchSegments(pattern, segs []string) (map[string]string, bool) {
	var params map[string]string
	for i, p := range pattern {
		if name, isParam := strings.CutPrefix(p, ":"); isParam {
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[name] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// prefixGuard is the guard the engine mounts on a whole prefix, which runs
// before its 404 for a path under it that no route has.
func prefixGuard(path string) guard {
	switch {
	case strings.HasPrefix(path, "/v1/admin/"):
		return guardAdmin
	case strings.HasPrefix(path, "/v1/emails"), strings.HasPrefix(path, "/v1/campaigns"), strings.HasPrefix(path, "/v1/groups"):
		return guardIngest
	case strings.HasPrefix(path, "/v1/referrals"):
		return guardReferrals
	}
	return guardNone
}

// dispatch authenticates, rate-limits and runs the route of r.
func (s *Server) dispatch(r *http.Request, body []byte) answer {
	rt, params := s.match(r)
	g := prefixGuard(r.URL.Path)
	if rt != nil {
		rt.count.Add(1)
		g = rt.guard
	}
	p, refused := s.authenticate(r, g)
	if refused != nil {
		return *refused
	}
	if rt == nil {
		return refuse(http.StatusNotFound, msgNotFound)
	}
	c := &call{r: r, body: body, p: p, params: params, now: s.now()}
	if !rt.limited {
		return rt.handle(c)
	}
	remaining, retryAfter := s.takeRate(p.keyID, c.now)
	if retryAfter > 0 {
		a := refuse(http.StatusTooManyRequests, msgRateLimited)
		a.header = s.rateHeaders(0)
		a.header["Retry-After"] = strconv.Itoa(retryAfter)
		return a
	}
	a := rt.handle(c)
	a.header = s.rateHeaders(remaining)
	return a
}

func (s *Server) rateHeaders(remaining int) map[string]string {
	return map[string]string{"X-RateLimit-Limit": strconv.Itoa(s.opts.EmailsPerMinute), "X-RateLimit-Remaining": strconv.Itoa(remaining)}
}

// takeRate counts a hit in the key's sliding minute: the hits left, or
// the seconds until one frees when none are.
func (s *Server) takeRate(keyID string, now time.Time) (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hits := s.rateHits[keyID]
	cut := 0
	for cut < len(hits) && now.Sub(hits[cut]) >= time.Minute {
		cut++
	}
	hits = hits[cut:]
	if len(hits) >= s.opts.EmailsPerMinute {
		s.rateHits[keyID] = hits
		wait := hits[0].Add(time.Minute).Sub(now)
		return 0, max(1, int((wait+time.Second-1)/time.Second))
	}
	s.rateHits[keyID] = append(hits, now)
	return s.opts.EmailsPerMinute - len(hits) - 1, 0
}

func (s *Server) health(*call) answer {
	return ok(http.StatusOK, map[string]string{"status": "ok"})
}
