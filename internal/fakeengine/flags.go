package fakeengine

import (
	"net/http"
)

type featureFlag struct {
	ID           string  `json:"id"`
	Key          string  `json:"key"`
	Name         string  `json:"name"`
	Description  *string `json:"description"`
	Enabled      bool    `json:"enabled"`
	Type         string  `json:"type"`
	Variants     []any   `json:"variants"`
	DefaultValue any     `json:"defaultValue"`
	Targeting    []any   `json:"targeting"`
	Rollout      float64 `json:"rollout"`
	Origin       string  `json:"origin"`
	ArchivedAt   *string `json:"archivedAt"`
	CreatedAt    string  `json:"createdAt"`
	UpdatedAt    string  `json:"updatedAt"`
}

// evaluatedFlags is every live, enabled flag's served value: true for a
// boolean flag fully rolled out, else its default. Called without s.mu.
func (s *Server) evaluatedFlags() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]any{}
	for _, f := range s.others.flags {
		if f.ArchivedAt != nil || !f.Enabled {
			continue
		}
		if f.Type == "boolean" && f.Rollout >= 100 {
			out[f.Key] = true
		} else {
			out[f.Key] = f.DefaultValue
		}
	}
	return out
}

// evaluateFlags is POST /v1/flags/evaluate {userId|email}.
func (s *Server) evaluateFlags(c *call) answer {
	sc, bad := parsed(c)
	if bad != nil {
		return *bad
	}
	userID, _ := sc.str("userId", 1, 0)
	email, _ := sc.email("email")
	if sc.failed() {
		return sc.answer()
	}
	if userID == "" && email == "" {
		return refuse(http.StatusBadRequest, msgIdentityRequired)
	}
	return ok(http.StatusOK, map[string]any{"flags": s.evaluatedFlags()})
}

// listFlags is GET /v1/admin/flags: live flags, newest first.
func (s *Server) listFlags(*call) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []featureFlag{}
	for i := len(s.others.flags) - 1; i >= 0; i-- {
		if f := s.others.flags[i]; f.ArchivedAt == nil {
			out = append(out, *f)
		}
	}
	return ok(http.StatusOK, map[string]any{"flags": out})
}

// applyFlagFields writes the optional fields of a create or update body.
func applyFlagFields(sc *schema, f *featureFlag) {
	if v, has := sc.str("description", 0, 0); has {
		f.Description = &v
	}
	if v, has := sc.boolean("enabled"); has {
		f.Enabled = v
	}
	if v, has := sc.array("variants"); has {
		f.Variants = v
	}
	if v, has := sc.get("defaultValue"); has {
		f.DefaultValue = v
	}
	if v, has := sc.array("targeting"); has {
		f.Targeting = v
	}
	if v, has := sc.number("rollout"); has {
		if v < 0 || v > 100 || v != float64(int(v)) {
			sc.custom([]string{"rollout"}, "rollout must be an integer 0-100")
		}
		f.Rollout = v
	}
}

func flagType(sc *schema, required bool) string {
	var t string
	var has bool
	if required {
		t, has = sc.requiredStr("type", 1)
	} else {
		t, has = sc.str("type", 1, 0)
	}
	if has && t != "boolean" && t != "multivariate" {
		sc.issues = append(sc.issues, zodIssue{Code: "invalid_value", Path: pathOf([]string{"type"}),
			Message: `Invalid option: expected one of "boolean"|"multivariate"`})
	}
	return t
}

// createFlag is POST /v1/admin/flags: 201 {flag}, 409 for a live key.
func (s *Server) createFlag(c *call) answer {
	sc, bad := parsed(c)
	if bad != nil {
		return *bad
	}
	key, _ := sc.requiredStr("key", 1)
	name, _ := sc.requiredStr("name", 1)
	f := &featureFlag{ID: newUUID(), Key: key, Name: name, Type: flagType(sc, true), Variants: []any{}, Targeting: []any{},
		DefaultValue: false, Origin: "native", CreatedAt: isoTime(c.now), UpdatedAt: isoTime(c.now)}
	applyFlagFields(sc, f)
	if sc.failed() {
		return sc.answer()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.others.flags {
		if g.Key == key && g.ArchivedAt == nil {
			return refuse(http.StatusConflict, "Flag key already exists: "+key)
		}
	}
	s.others.flags = append(s.others.flags, f)
	return ok(http.StatusCreated, map[string]any{"flag": *f})
}

func (s *Server) flagByID(id string) *featureFlag {
	for _, f := range s.others.flags {
		if f.ID == id && f.ArchivedAt == nil {
			return f
		}
	}
	return nil
}

// updateFlag is PATCH /v1/admin/flags/:id; the key is immutable.
func (s *Server) updateFlag(c *call) answer {
	sc, bad := parsed(c)
	if bad != nil {
		return *bad
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flagByID(c.params["id"])
	if f == nil {
		return refuse(http.StatusNotFound, "Flag not found")
	}
	next := *f
	if v, has := sc.str("name", 1, 0); has {
		next.Name = v
	}
	if t := flagType(sc, false); t != "" {
		next.Type = t
	}
	applyFlagFields(sc, &next)
	if sc.failed() {
		return sc.answer()
	}
	next.UpdatedAt = isoTime(c.now)
	*f = next
	return ok(http.StatusOK, map[string]any{"flag": next})
}

// archiveFlag is DELETE /v1/admin/flags/:id: a soft delete.
func (s *Server) archiveFlag(c *call) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flagByID(c.params["id"])
	if f == nil {
		return refuse(http.StatusNotFound, "Flag not found")
	}
	f.ArchivedAt = nullable(isoTime(c.now))
	return ok(http.StatusOK, map[string]bool{"archived": true})
}
