package fakeengine

import (
	"net/http"
	"net/url"
)

type group struct {
	ID          string         `json:"id"`
	GroupType   string         `json:"groupType"`
	GroupKey    string         `json:"groupKey"`
	DisplayName *string        `json:"displayName"`
	Properties  map[string]any `json:"properties"`
	FirstSeenAt string         `json:"firstSeenAt"`
	LastSeenAt  string         `json:"lastSeenAt"`
	CreatedAt   string         `json:"createdAt"`
	UpdatedAt   string         `json:"updatedAt"`
}

type membership struct {
	ID        string  `json:"id"`
	GroupID   string  `json:"groupId"`
	ContactID string  `json:"contactId"`
	Role      *string `json:"role"`
	JoinedAt  string  `json:"joinedAt"`
}

func (s *Server) findGroup(groupType, key string) *group {
	for _, g := range s.others.groups {
		if g.GroupType == groupType && g.GroupKey == key {
			return g
		}
	}
	return nil
}

// pathParam is a path parameter, percent-decoded as the SDK encoded it.
func pathParam(c *call, name string) string {
	v, err := url.PathUnescape(c.params[name])
	if err != nil {
		return c.params[name]
	}
	return v
}

// identifyGroup is POST /v1/groups: upsert by (groupType, groupKey),
// properties merged with new keys winning.
func (s *Server) identifyGroup(c *call) answer {
	sc, bad := parsed(c)
	if bad != nil {
		return *bad
	}
	groupType, _ := sc.requiredStr("groupType", 1)
	key, _ := sc.requiredStr("groupKey", 1)
	display, hasDisplay := sc.str("displayName", 0, 0)
	props, _ := sc.record("properties")
	if sc.failed() {
		return sc.answer()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.upsertGroup(groupType, key, c)
	if hasDisplay {
		g.DisplayName = &display
	}
	g.Properties = mergeProperties(g.Properties, props)
	return ok(http.StatusOK, map[string]any{"group": *g})
}

func (s *Server) upsertGroup(groupType, key string, c *call) *group {
	now := isoTime(c.now)
	g := s.findGroup(groupType, key)
	if g == nil {
		g = &group{ID: newUUID(), GroupType: groupType, GroupKey: key, Properties: map[string]any{},
			FirstSeenAt: now, CreatedAt: now}
		s.others.groups = append(s.others.groups, g)
	}
	g.LastSeenAt, g.UpdatedAt = now, now
	return g
}

// getGroup is GET /v1/groups/:type/:key.
func (s *Server) getGroup(c *call) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.findGroup(pathParam(c, "type"), pathParam(c, "key"))
	if g == nil {
		return refuse(http.StatusNotFound, "Group not found")
	}
	return ok(http.StatusOK, map[string]any{"group": *g})
}

// listGroups is GET /v1/groups?groupType&limit&offset, newest seen first.
func (s *Server) listGroups(c *call) answer {
	limit, offset := page(c)
	only := c.r.URL.Query().Get("groupType")
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []group
	for i := len(s.others.groups) - 1; i >= 0; i-- {
		if g := s.others.groups[i]; only == "" || g.GroupType == only {
			all = append(all, *g)
		}
	}
	return ok(http.StatusOK, map[string]any{"groups": window(all, limit, offset)})
}

// addMember is POST /v1/groups/:type/:key/members: the group is created
// when missing; the contact must exist.
func (s *Server) addMember(c *call) answer {
	sc, bad := parsed(c)
	if bad != nil {
		return *bad
	}
	contactID, _ := sc.requiredStr("contactId", 1)
	role, hasRole := sc.str("role", 0, 0)
	if sc.failed() {
		return sc.answer()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ct := s.contacts[contactID]; ct == nil || ct.Deleted {
		return refuse(http.StatusNotFound, msgContactNotFound)
	}
	g := s.upsertGroup(pathParam(c, "type"), pathParam(c, "key"), c)
	for _, m := range s.others.memberships[g.ID] {
		if m.ContactID == contactID {
			return ok(http.StatusOK, map[string]any{"membership": *m, "created": false})
		}
	}
	m := &membership{ID: newUUID(), GroupID: g.ID, ContactID: contactID, JoinedAt: isoTime(c.now)}
	if hasRole {
		m.Role = &role
	}
	s.others.memberships[g.ID] = append(s.others.memberships[g.ID], m)
	return ok(http.StatusOK, map[string]any{"membership": *m, "created": true})
}

// removeMember is DELETE /v1/groups/:type/:key/members/:contactId.
func (s *Server) removeMember(c *call) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.findGroup(pathParam(c, "type"), pathParam(c, "key"))
	if g == nil {
		return ok(http.StatusOK, map[string]bool{"removed": false})
	}
	ms := s.others.memberships[g.ID]
	for i, m := range ms {
		if m.ContactID == pathParam(c, "contactId") {
			s.others.memberships[g.ID] = append(ms[:i:i], ms[i+1:]...)
			return ok(http.StatusOK, map[string]bool{"removed": true})
		}
	}
	return ok(http.StatusOK, map[string]bool{"removed": false})
}

type memberJSON struct {
	ContactID  string  `json:"contactId"`
	Email      *string `json:"email"`
	ExternalID *string `json:"externalId"`
	Role       *string `json:"role"`
	JoinedAt   string  `json:"joinedAt"`
}

// listMembers is GET /v1/groups/:type/:key/members, newest joined first;
// [] for an unknown group.
func (s *Server) listMembers(c *call) answer {
	limit, offset := page(c)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []memberJSON{}
	if g := s.findGroup(pathParam(c, "type"), pathParam(c, "key")); g != nil {
		ms := s.others.memberships[g.ID]
		for i := len(ms) - 1; i >= 0; i-- {
			m := ms[i]
			mj := memberJSON{ContactID: m.ContactID, Role: m.Role, JoinedAt: m.JoinedAt}
			if ct := s.contacts[m.ContactID]; ct != nil {
				mj.Email, mj.ExternalID = nullable(ct.Email), nullable(ct.ExternalID)
			}
			out = append(out, mj)
		}
	}
	return ok(http.StatusOK, map[string]any{"members": window(out, limit, offset)})
}
