package fakeengine

import (
	"net/http"
	"regexp"
)

type link struct {
	ID            string  `json:"id"`
	TrackedLinkID *string `json:"trackedLinkId"`
	OriginalURL   string  `json:"originalUrl"`
	Type          string  `json:"type"`
	Slug          *string `json:"slug"`
	VanityURL     *string `json:"vanityUrl"`
	Label         *string `json:"label"`
	Description   *string `json:"description"`
	AppendRef     bool    `json:"appendRef"`
	Campaign      *string `json:"campaign"`
	Source        string  `json:"source"`
	DistinctID    *string `json:"distinctId"`
	CreatedBy     *string `json:"createdBy"`
	ClickCount    int     `json:"clickCount"`
	ScanCount     int     `json:"scanCount"`
	URL           string  `json:"url"`
	ArchivedAt    *string `json:"archivedAt"`
	CreatedAt     string  `json:"createdAt"`
	UpdatedAt     string  `json:"updatedAt"`
	key           string
}

var linkKeyRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

const linkKeyPattern = `/^[A-Za-z0-9][A-Za-z0-9_.-]*$/`

// optionalText writes a nullable string field: null clears it.
func optionalText(sc *schema, name string, dst **string) {
	if v, present := sc.get(name); present && v == nil {
		*dst = nil
	} else if str, has := sc.str(name, 0, 0); has {
		*dst = &str
	}
}

// parseLink reads a create body into a new link.
func parseLink(sc *schema, c *call) *link {
	now := isoTime(c.now)
	tracked := newUUID()
	l := &link{ID: newUUID(), TrackedLinkID: &tracked, Type: "public", Source: "api", CreatedAt: now, UpdatedAt: now,
		URL: "http://" + c.r.Host + "/v1/t/c/" + tracked}
	l.OriginalURL, _ = sc.requiredStr("url", 1)
	if l.OriginalURL != "" && !validURL(l.OriginalURL) {
		sc.issues = append(sc.issues, formatIssue([]string{"url"}, "url", "", "Invalid URL"))
	}
	if t, has := sc.str("type", 0, 0); has {
		l.Type = t
	}
	sc.str("ownerContactId", 0, 0)
	optionalText(sc, "slug", &l.Slug)
	optionalText(sc, "label", &l.Label)
	optionalText(sc, "description", &l.Description)
	l.AppendRef, _ = sc.boolean("appendRef")
	optionalText(sc, "campaign", &l.Campaign)
	optionalText(sc, "distinctId", &l.DistinctID)
	if src, has := sc.str("source", 0, 0); has {
		l.Source = src
	}
	l.key, _ = sc.match("idempotencyKey", linkKeyRE, linkKeyPattern)
	return l
}

// createLink is POST /v1/admin/links: 201 with existing:false, or the live
// link of the same idempotencyKey and url with existing:true.
func (s *Server) createLink(c *call) answer {
	sc, bad := parsed(c)
	if bad != nil {
		return *bad
	}
	l := parseLink(sc, c)
	switch {
	case sc.failed():
		return sc.answer()
	case l.Slug != nil && l.key != "":
		return refuse(http.StatusBadRequest, "slug and idempotencyKey are mutually exclusive")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prior := s.linkByKey(l.key); prior != nil {
		if prior.OriginalURL != l.OriginalURL {
			return refuse(http.StatusConflict, "idempotencyKey is taken by a different destination")
		}
		return ok(http.StatusOK, withFields(*prior, map[string]any{"existing": true}))
	}
	s.others.links = append(s.others.links, l)
	return ok(http.StatusCreated, withFields(*l, map[string]any{"existing": false}))
}

func (s *Server) linkByKey(key string) *link {
	for _, l := range s.others.links {
		if key != "" && l.key == key && l.ArchivedAt == nil {
			return l
		}
	}
	return nil
}

func (s *Server) linkCall(c *call, fn func(*link) answer) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.others.links {
		if l.ID == c.params["id"] {
			return fn(l)
		}
	}
	return refuse(http.StatusNotFound, "Link not found")
}

// getLink is GET /v1/admin/links/:id: the link with clicks and stats.
func (s *Server) getLink(c *call) answer {
	return s.linkCall(c, func(l *link) answer {
		return ok(http.StatusOK, withFields(*l, map[string]any{"clicks": []any{}, "destinations": []any{},
			"arrivalCount": 0, "identifiedArrivalCount": 0}))
	})
}

// listLinks is GET /v1/admin/links: {links, total, limit, offset}.
func (s *Server) listLinks(c *call) answer {
	limit, offset := page(c)
	q := c.r.URL.Query()
	archived, only := q.Get("includeArchived") == "true", q.Get("type")
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []link
	for i := len(s.others.links) - 1; i >= 0; i-- {
		l := s.others.links[i]
		if (archived || l.ArchivedAt == nil) && (only == "" || l.Type == only) {
			all = append(all, *l)
		}
	}
	return ok(http.StatusOK, map[string]any{"links": window(all, limit, offset), "total": len(all), "limit": limit, "offset": offset})
}

// updateLink is PATCH /v1/admin/links/:id.
func (s *Server) updateLink(c *call) answer {
	sc, bad := parsed(c)
	if bad != nil {
		return *bad
	}
	return s.linkCall(c, func(l *link) answer {
		next := *l
		if u, has := sc.str("originalUrl", 1, 0); has {
			next.OriginalURL = u
		}
		optionalText(sc, "slug", &next.Slug)
		optionalText(sc, "label", &next.Label)
		optionalText(sc, "description", &next.Description)
		if v, has := sc.boolean("appendRef"); has {
			next.AppendRef = v
		}
		optionalText(sc, "campaign", &next.Campaign)
		if sc.failed() {
			return sc.answer()
		}
		next.UpdatedAt = isoTime(c.now)
		*l = next
		return ok(http.StatusOK, next)
	})
}

// archiveLink is DELETE /v1/admin/links/:id: the archived link.
func (s *Server) archiveLink(c *call) answer {
	return s.linkCall(c, func(l *link) answer {
		l.ArchivedAt = nullable(isoTime(c.now))
		return ok(http.StatusOK, *l)
	})
}

// A 1×1 PNG: what a png QR answers, the bytes being beside the point.
var tinyPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// linkQR is GET /v1/admin/links/:id/qr: SVG by default, PNG on request.
func (s *Server) linkQR(c *call) answer {
	return s.linkCall(c, func(l *link) answer {
		if c.r.URL.Query().Get("format") == "png" {
			return answer{status: http.StatusOK, raw: tinyPNG, contentType: "image/png"}
		}
		svg := `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 21 21"><title>` + l.ID + `</title></svg>`
		return answer{status: http.StatusOK, raw: []byte(svg), contentType: "image/svg+xml"}
	})
}
