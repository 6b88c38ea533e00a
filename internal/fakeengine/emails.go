package fakeengine

import (
	"net/http"
	"slices"
)

// EmailSend is one accepted POST /v1/emails.
type EmailSend struct {
	ID             string
	To             string
	Template       string
	Props          map[string]any
	IdempotencyKey string
}

// emailInput is POST /v1/emails' body once its schema passed.
type emailInput struct {
	to, userID, template, key string
	props                     map[string]any
	skipPreferenceCheck       bool
}

func parseEmail(sc *schema) emailInput {
	var in emailInput
	in.to, _ = sc.email("to")
	in.userID, _ = sc.str("userId", 1, 0)
	in.template, _ = sc.requiredStr("template", 1)
	in.props, _ = sc.record("props")
	sc.str("from", 0, 0)
	sc.str("subject", 0, 0)
	if v, present := sc.get("replyTo"); present {
		if _, isArr := v.([]any); !isArr {
			sc.str("replyTo", 0, 0)
		}
	}
	sc.str("category", 0, 0)
	in.skipPreferenceCheck, _ = sc.boolean("skipPreferenceCheck")
	in.key, _ = sc.str("idempotencyKey", 0, 0)
	return in
}

// sendEmail is POST /v1/emails: a recipient by to or userId, a known
// template, skipPreferenceCheck for full-admin only.
func (s *Server) sendEmail(c *call) answer {
	sc, bad := parsed(c)
	if bad != nil {
		return *bad
	}
	in := parseEmail(sc)
	switch {
	case sc.failed():
		return sc.answer()
	case in.to == "" && in.userID == "":
		return refuse(http.StatusBadRequest, "to or userId is required")
	case in.skipPreferenceCheck && !hasScope(c.p.scopes, ScopeFullAdmin):
		return refuse(http.StatusForbidden, "skipPreferenceCheck requires a full-admin key")
	case !slices.Contains(s.opts.Templates, in.template):
		return refuse(http.StatusBadRequest, "Unknown template: "+in.template)
	}
	addr := s.recipientEmail(normalise(in.to, in.userID, ""))
	if addr == "" {
		return refuse(http.StatusNotFound, "No resolvable email for recipient")
	}
	key := idempotencyKey(c.r, in.key)
	s.mu.Lock()
	defer s.mu.Unlock()
	id, dup := s.others.emailByKey[key]
	if key == "" || !dup {
		id = newUUID()
		s.others.emails = append(s.others.emails, EmailSend{ID: id, To: addr, Template: in.template, Props: in.props, IdempotencyKey: key})
		if key != "" {
			s.others.emailByKey[key] = id
		}
	}
	return ok(http.StatusAccepted, map[string]string{"emailSendId": id, "status": "queued"})
}

// Emails returns the accepted email sends, in order.
func (s *Server) Emails() []EmailSend {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.others.emails)
}
