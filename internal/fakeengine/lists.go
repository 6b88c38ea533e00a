package fakeengine

import (
	"net/http"
	"strings"
)

// List is a code-defined list (docs/contracts/hogsend-api.md §3.1 lists).
type List struct {
	ID           string
	Name         string
	Description  string
	DefaultOptIn bool
	Kind         string // topic or channel
}

type listJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Description  string `json:"description,omitempty"`
	DefaultOptIn bool   `json:"defaultOptIn"`
	Kind         string `json:"kind"`
	Subscribed   bool   `json:"subscribed"`
}

// applyLists sets list flags for an email; any list id is written, as the
// contact routes do not check the registry. Called with s.mu held.
func (s *Server) applyLists(email string, flags map[string]bool) {
	p := s.prefs[email]
	if p == nil {
		p = map[string]bool{}
		s.prefs[email] = p
	}
	for k, v := range flags {
		p[k] = v
	}
}

func (s *Server) list(id string) (List, bool) {
	for _, l := range s.opts.Lists {
		if l.ID == id {
			return l, true
		}
	}
	return List{}, false
}

// listLists is GET /v1/lists: every list, subscribed as the flags of the
// email or userId asked about say, else its default.
func (s *Server) listLists(c *call) answer {
	q := c.r.URL.Query()
	email := s.recipientEmail(normalise(q.Get("email"), q.Get("userId"), ""))
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]listJSON, 0, len(s.opts.Lists))
	for _, l := range s.opts.Lists {
		sub, set := s.prefs[email][l.ID]
		if !set {
			sub = l.DefaultOptIn
		}
		out = append(out, listJSON{ID: l.ID, Name: l.Name, Description: l.Description, DefaultOptIn: l.DefaultOptIn, Kind: l.Kind, Subscribed: sub})
	}
	return ok(http.StatusOK, map[string]any{"lists": out})
}

// recipientEmail is the email of keys: the email itself, else the email of
// the userId's contact.
func (s *Server) recipientEmail(keys identityKeys) string {
	if keys.email != "" {
		return keys.email
	}
	if keys.external == "" {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.findLive(kindExternal, keys.external); c != nil {
		return c.Email
	}
	return ""
}

// subscribe is POST /v1/lists/:id/subscribe and …/unsubscribe.
func (s *Server) subscribe(on bool) func(*call) answer {
	return func(c *call) answer {
		v, bad := decodeBody(c.r, c.body)
		if bad != nil {
			return *bad
		}
		sc := newSchema(v)
		email, _ := sc.email("email")
		userID, _ := sc.str("userId", 1, 0)
		userToken, _ := sc.str("userToken", 0, 0)
		if sc.failed() {
			return sc.answer()
		}
		keys := normalise(email, userID, "")
		if a := s.gateIdentity(c.p, keys, userToken); a != nil {
			return *a
		}
		id := c.params["id"]
		if _, known := s.list(id); !known {
			return refuse(http.StatusNotFound, "Unknown list: "+id)
		}
		addr := s.recipientEmail(keys)
		if addr == "" {
			return refuse(http.StatusBadRequest, msgNoEmailForLists)
		}
		s.mu.Lock()
		s.applyLists(strings.ToLower(addr), map[string]bool{id: on})
		s.mu.Unlock()
		return ok(http.StatusOK, map[string]any{"list": id, "subscribed": on})
	}
}

// flagsForBrowser is GET /v1/flags: the browser's evaluated flags.
func (s *Server) flagsForBrowser(*call) answer {
	return ok(http.StatusOK, map[string]any{"flags": s.evaluatedFlags()})
}
