package fakeengine

import (
	"net/http"
	"slices"
	"strconv"
)

// EmailSend is one accepted POST /v1/emails.
type EmailSend struct {
	ID             string
	To             string
	Template       string
	Props          map[string]any
	IdempotencyKey string
}

// sendEmail is POST /v1/emails: a recipient by to or userId, a known
// template, skipPreferenceCheck for full-admin only.
func (s *Server) sendEmail(c *call) answer {
	sc, bad := parsed(c)
	if bad != nil {
		return *bad
	}
	to, _ := sc.email("to")
	userID, _ := sc.str("userId", 1, 0)
	template, _ := sc.requiredStr("template", 1)
	props, _ := sc.record("props")
	sc.str("from", 0, 0)
	sc.str("subject", 0, 0)
	if v, present := sc.get("replyTo"); present {
		if _, isArr := v.([]any); !isArr {
			sc.str("replyTo", 0, 0)
		}
	}
	sc.str("category", 0, 0)
	skip, _ := sc.boolean("skipPreferenceCheck")
	bodyKey, _ := sc.str("idempotencyKey", 0, 0)
	if sc.failed() {
		return sc.answer()
	}
	switch {
	case to == "" && userID == "":
		return refuse(http.StatusBadRequest, "to or userId is required")
	case skip && !hasScope(c.p.scopes, ScopeFullAdmin):
		return refuse(http.StatusForbidden, "skipPreferenceCheck requires a full-admin key")
	case !slices.Contains(s.opts.Templates, template):
		return refuse(http.StatusBadRequest, "Unknown template: "+template)
	}
	addr := s.recipientEmail(normalise(to, userID, ""))
	if addr == "" {
		return refuse(http.StatusNotFound, "No resolvable email for recipient")
	}
	key := idempotencyKey(c.r, bodyKey)
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, dup := s.others.emailByKey[key]; key != "" && dup {
		return ok(http.StatusAccepted, map[string]string{"emailSendId": id, "status": "queued"})
	}
	send := EmailSend{ID: newUUID(), To: addr, Template: template, Props: props, IdempotencyKey: key}
	s.others.emails = append(s.others.emails, send)
	if key != "" {
		s.others.emailByKey[key] = send.ID
	}
	return ok(http.StatusAccepted, map[string]string{"emailSendId": send.ID, "status": "queued"})
}

// Emails returns the accepted email sends, in order.
func (s *Server) Emails() []EmailSend {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.others.emails)
}

func atoiStrict(v string) (int, error) { return strconv.Atoi(v) }
