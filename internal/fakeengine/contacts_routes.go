package fakeengine

import (
	"net/http"
	"time"
)

// contactJSON is a contact as find answers it (docs/contracts/hogsend-api.md §4.1).
type contactJSON struct {
	ID          string         `json:"id"`
	ExternalID  *string        `json:"externalId"`
	Email       *string        `json:"email"`
	Properties  map[string]any `json:"properties"`
	FirstSeenAt string         `json:"firstSeenAt"`
	LastSeenAt  string         `json:"lastSeenAt"`
	CreatedAt   string         `json:"createdAt"`
	UpdatedAt   string         `json:"updatedAt"`
}

// isoTime is JavaScript's toISOString: UTC with milliseconds.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func serializeContact(c *Contact) contactJSON {
	return contactJSON{ID: c.ID, ExternalID: nullable(c.ExternalID), Email: nullable(c.Email),
		Properties: mergeProperties(nil, c.Properties), FirstSeenAt: isoTime(c.FirstSeenAt),
		LastSeenAt: isoTime(c.LastSeenAt), CreatedAt: isoTime(c.CreatedAt), UpdatedAt: isoTime(c.UpdatedAt)}
}

type upsertAnswer struct {
	ID      string `json:"id"`
	Created bool   `json:"created"`
	Linked  bool   `json:"linked"`
}

// contactBody is PUT /v1/contacts' body once its schema passed (§3.1).
type contactBody struct {
	keys       identityKeys
	properties map[string]any
	lists      map[string]bool
	hasLists   bool
	userToken  string
}

func parseContactBody(v any) (contactBody, *schema) {
	sc := newSchema(v)
	var b contactBody
	email, _ := sc.email("email")
	userID, _ := sc.str("userId", 1, 0)
	anon, _ := sc.str("anonymousId", 1, 200)
	b.keys = normalise(email, userID, anon)
	b.properties, _ = sc.record("properties")
	b.lists, b.hasLists = sc.boolRecord("lists")
	b.userToken, _ = sc.str("userToken", 0, 0)
	return b, sc
}

// upsertContact is PUT /v1/contacts (§3).
func (s *Server) upsertContact(c *call) answer {
	v, bad := decodeBody(c.r, c.body)
	if bad != nil {
		return *bad
	}
	b, sc := parseContactBody(v)
	if sc.failed() {
		return sc.answer()
	}
	if a := s.gateIdentity(c.p, b.keys, b.userToken); a != nil {
		return *a
	}
	if b.keys.empty() {
		return refuse(http.StatusInternalServerError, "Internal Server Error")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.p.publishable && s.attachesIdentified(b.keys) {
		return refuse(http.StatusForbidden, msgAnonymousIdentified)
	}
	res := s.resolve(b.keys, b.properties, "", c.now)
	if b.hasLists {
		if res.contact.Email == "" {
			return refuse(http.StatusBadRequest, msgNoEmailForLists)
		}
		s.applyLists(res.contact.Email, b.lists)
	}
	return ok(http.StatusOK, upsertAnswer{ID: res.contact.ID, Created: res.created, Linked: res.linked})
}

// attachesIdentified: a publishable anonymous write whose key already names
// a contact with an email or a userId. Called with s.mu held.
func (s *Server) attachesIdentified(keys identityKeys) bool {
	if keys.email != "" || keys.external != "" || keys.anonymous == "" {
		return false
	}
	c := s.findLive(kindAnonymous, keys.anonymous)
	return c != nil && (c.ExternalID != "" || c.Email != "")
}

// findContacts is GET /v1/contacts/find (§4.1).
func (s *Server) findContacts(c *call) answer {
	q := c.r.URL.Query()
	keys := normalise(q.Get("email"), q.Get("userId"), "")
	if keys.email == "" && keys.external == "" {
		return refuse(http.StatusBadRequest, msgIdentityRequired)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []contactJSON{}
	for _, ct := range s.targets(keys) {
		out = append(out, serializeContact(ct))
	}
	return ok(http.StatusOK, map[string]any{"contacts": out})
}

// deleteContacts is DELETE /v1/contacts (§4.2): every live contact either
// key names is soft-deleted and loses its aliases.
func (s *Server) deleteContacts(c *call) answer {
	v, bad := decodeBody(c.r, c.body)
	if bad != nil {
		return *bad
	}
	sc := newSchema(v)
	email, _ := sc.str("email", 0, 0)
	userID, _ := sc.str("userId", 0, 0)
	if sc.failed() {
		return sc.answer()
	}
	keys := normalise(email, userID, "")
	if keys.email == "" && keys.external == "" {
		return refuse(http.StatusBadRequest, msgIdentityRequired)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	found := s.targets(keys)
	if len(found) == 0 {
		return refuse(http.StatusNotFound, msgContactNotFound)
	}
	for _, ct := range found {
		s.softDelete(ct, c.now, true)
	}
	return ok(http.StatusOK, map[string]bool{"deleted": true})
}

// contactMe is GET /v1/contacts/me: the browser's read of itself; it
// never answers 404, which makes it the proxy's key check.
func (s *Server) contactMe(c *call) answer {
	q := c.r.URL.Query()
	keys := normalise(q.Get("email"), q.Get("userId"), q.Get("anonymousId"))
	identified := false
	if !keys.empty() {
		s.mu.Lock()
		for _, kv := range keys.ordered() {
			if ct := s.findLive(kv[0], kv[1]); ct != nil && (ct.ExternalID != "" || ct.Email != "") {
				identified = true
			}
		}
		s.mu.Unlock()
	}
	return ok(http.StatusOK, map[string]any{"identified": identified, "traits": map[string]any{}})
}
