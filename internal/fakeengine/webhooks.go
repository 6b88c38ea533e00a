package fakeengine

import (
	"net/http"
	"net/url"
)

type webhook struct {
	ID             string         `json:"id"`
	URL            string         `json:"url"`
	Description    *string        `json:"description"`
	EventTypes     []string       `json:"eventTypes"`
	SecretPrefix   *string        `json:"secretPrefix"`
	Kind           string         `json:"kind"`
	Config         map[string]any `json:"config"`
	Status         string         `json:"status"`
	OrganizationID *string        `json:"organizationId"`
	LastDeliveryAt *string        `json:"lastDeliveryAt"`
	CreatedAt      string         `json:"createdAt"`
	UpdatedAt      string         `json:"updatedAt"`
}

func validURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// applyWebhookFields writes the fields of a create or update body.
func applyWebhookFields(sc *schema, w *webhook, create bool) {
	if v, has := sc.str("url", 0, 0); has {
		if !validURL(v) {
			sc.issues = append(sc.issues, formatIssue([]string{"url"}, "url", "", "Invalid URL"))
		}
		w.URL = v
	} else if create {
		sc.requiredStr("url", 1)
	}
	if types, has := sc.array("eventTypes"); has {
		w.EventTypes = w.EventTypes[:0]
		for _, t := range types {
			if str, isStr := t.(string); isStr {
				w.EventTypes = append(w.EventTypes, str)
			}
		}
		if len(w.EventTypes) == 0 {
			sc.custom([]string{"eventTypes"}, "At least one event type is required")
		}
	} else if create {
		sc.issues = append(sc.issues, typeIssueOf([]string{"eventTypes"}, "array", "undefined"))
	}
	if v, present := sc.get("description"); present && v == nil {
		w.Description = nil
	} else if d, has := sc.str("description", 0, 0); has {
		w.Description = &d
	}
	if v, has := sc.boolean("disabled"); has {
		w.Status = map[bool]string{true: "disabled", false: "enabled"}[v]
	}
	if v, has := sc.str("kind", 1, 0); has {
		w.Kind = v
	}
	if v, has := sc.record("config"); has {
		w.Config = v
	}
}

func webhookSecret() string { return "whsec_" + newKeyText("")[:32] }

// createWebhook is POST /v1/admin/webhooks: 201 with the full secret, once.
func (s *Server) createWebhook(c *call) answer {
	sc, bad := parsed(c)
	if bad != nil {
		return *bad
	}
	now := isoTime(c.now)
	w := &webhook{ID: newUUID(), Kind: "webhook", Status: "enabled", EventTypes: []string{}, CreatedAt: now, UpdatedAt: now}
	applyWebhookFields(sc, w, true)
	if sc.failed() {
		return sc.answer()
	}
	out := map[string]any{}
	if w.Kind == "webhook" {
		secret := webhookSecret()
		w.Config, w.SecretPrefix = nil, nullable(secret[:10])
		out["secret"] = secret
	}
	s.mu.Lock()
	s.others.webhooks = append(s.others.webhooks, w)
	s.mu.Unlock()
	return ok(http.StatusCreated, withFields(*w, out))
}

// withFields is v's JSON object plus extra members.
func withFields(v any, extra map[string]any) map[string]any {
	out := toObject(v)
	for k, x := range extra {
		out[k] = x
	}
	return out
}

func (s *Server) webhookByID(id string) *webhook {
	for _, w := range s.others.webhooks {
		if w.ID == id {
			return w
		}
	}
	return nil
}

// listWebhooks is GET /v1/admin/webhooks: {endpoints, total, limit, offset},
// disabled ones only with includeDisabled=true.
func (s *Server) listWebhooks(c *call) answer {
	limit, offset := page(c)
	withDisabled := c.r.URL.Query().Get("includeDisabled") == "true"
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []webhook
	for i := len(s.others.webhooks) - 1; i >= 0; i-- {
		if w := s.others.webhooks[i]; withDisabled || w.Status == "enabled" {
			all = append(all, *w)
		}
	}
	return ok(http.StatusOK, map[string]any{"endpoints": window(all, limit, offset), "total": len(all), "limit": limit, "offset": offset})
}

// webhookCall runs fn on the webhook of the path, 404 without one.
func (s *Server) webhookCall(c *call, fn func(*webhook) answer) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.webhookByID(c.params["id"])
	if w == nil {
		return refuse(http.StatusNotFound, "Webhook endpoint not found")
	}
	return fn(w)
}

func (s *Server) getWebhook(c *call) answer {
	return s.webhookCall(c, func(w *webhook) answer { return ok(http.StatusOK, *w) })
}

// updateWebhook is PATCH /v1/admin/webhooks/:id; the secret is untouched.
func (s *Server) updateWebhook(c *call) answer {
	sc, bad := parsed(c)
	if bad != nil {
		return *bad
	}
	return s.webhookCall(c, func(w *webhook) answer {
		next := *w
		next.EventTypes = append([]string(nil), w.EventTypes...)
		applyWebhookFields(sc, &next, false)
		if sc.failed() {
			return sc.answer()
		}
		next.UpdatedAt = isoTime(c.now)
		*w = next
		return ok(http.StatusOK, next)
	})
}

// deleteWebhook is DELETE /v1/admin/webhooks/:id, a hard delete.
func (s *Server) deleteWebhook(c *call) answer {
	return s.webhookCall(c, func(w *webhook) answer {
		for i, x := range s.others.webhooks {
			if x == w {
				s.others.webhooks = append(s.others.webhooks[:i:i], s.others.webhooks[i+1:]...)
				break
			}
		}
		return ok(http.StatusOK, map[string]bool{"deleted": true})
	})
}

// rotateWebhookSecret is POST …/rotate-secret: the new secret, once.
func (s *Server) rotateWebhookSecret(c *call) answer {
	return s.webhookCall(c, func(w *webhook) answer {
		secret := webhookSecret()
		w.SecretPrefix = nullable(secret[:10])
		return ok(http.StatusOK, map[string]string{"id": w.ID, "secret": secret, "secretPrefix": secret[:10]})
	})
}

// testWebhook is POST …/test: 202, the test delivery enqueued.
func (s *Server) testWebhook(c *call) answer {
	return s.webhookCall(c, func(*webhook) answer {
		return ok(http.StatusAccepted, map[string]any{"enqueued": true, "eventType": "webhook.test"})
	})
}
