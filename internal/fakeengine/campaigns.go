package fakeengine

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

type campaign struct {
	ID              string  `json:"id"`
	Name            string  `json:"name"`
	Status          string  `json:"status"`
	AudienceKind    string  `json:"audienceKind"`
	AudienceID      string  `json:"audienceId"`
	TemplateKey     string  `json:"templateKey"`
	Subject         *string `json:"subject"`
	FromEmail       *string `json:"fromEmail"`
	TotalRecipients int     `json:"totalRecipients"`
	SentCount       int     `json:"sentCount"`
	SkippedCount    int     `json:"skippedCount"`
	FailedCount     int     `json:"failedCount"`
	ScheduledAt     *string `json:"scheduledAt"`
	CanceledAt      *string `json:"canceledAt"`
	StartedAt       *string `json:"startedAt"`
	CompletedAt     *string `json:"completedAt"`
	CreatedAt       string  `json:"createdAt"`
	idempotencyKey  string
}

// sendAtTolerance: a sendAt this far in the past is still an immediate send.
const sendAtTolerance = time.Minute

type campaignInput struct {
	name, list, bucket, template, from, subject, key string
	sendAt                                           time.Time
	hasSendAt                                        bool
}

func parseCampaign(sc *schema) campaignInput {
	var in campaignInput
	in.name, _ = sc.str("name", 1, 0)
	in.list, _ = sc.str("list", 1, 0)
	in.bucket, _ = sc.str("bucket", 1, 0)
	in.template, _ = sc.requiredStr("template", 1)
	sc.record("props")
	in.from, _ = sc.str("from", 0, 0)
	in.subject, _ = sc.str("subject", 0, 0)
	if v, present := sc.str("sendAt", 0, 0); present {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			sc.issues = append(sc.issues, formatIssue([]string{"sendAt"}, "datetime", "", "Invalid ISO datetime"))
		}
		in.sendAt, in.hasSendAt = t, err == nil
	}
	in.key, _ = sc.str("idempotencyKey", 1, 0)
	if !sc.failed() && (in.list != "") == (in.bucket != "") {
		sc.custom(nil, "Exactly one of `list` or `bucket` is required")
	}
	return in
}

// sendCampaign is POST /v1/campaigns: 202 {campaignId, status, scheduledAt}.
func (s *Server) sendCampaign(c *call) answer {
	sc, bad := parsed(c)
	if bad != nil {
		return *bad
	}
	in := parseCampaign(sc)
	if sc.failed() {
		return sc.answer()
	}
	if in.hasSendAt && in.sendAt.Before(c.now.Add(-sendAtTolerance)) {
		return refuse(http.StatusBadRequest, "sendAt is in the past: "+sc.obj["sendAt"].(string))
	}
	if !slices.Contains(s.opts.Templates, in.template) {
		return refuse(http.StatusBadRequest, "Unknown template: "+in.template)
	}
	if _, known := s.list(in.list); in.list != "" && !known {
		return refuse(http.StatusNotFound, "Unknown list: "+in.list)
	}
	if in.bucket != "" && !slices.Contains(s.opts.Buckets, in.bucket) {
		return refuse(http.StatusNotFound, "Unknown bucket: "+in.bucket)
	}
	in.key = idempotencyKey(c.r, in.key)
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := s.campaignByKey(in.key)
	if cp == nil {
		cp = newCampaign(in, c.now)
		s.others.campaigns = append(s.others.campaigns, cp)
	}
	return ok(http.StatusAccepted, map[string]any{"campaignId": cp.ID, "status": cp.Status, "scheduledAt": cp.ScheduledAt})
}

func (s *Server) campaignByKey(key string) *campaign {
	if key == "" {
		return nil
	}
	for _, cp := range s.others.campaigns {
		if cp.idempotencyKey == key {
			return cp
		}
	}
	return nil
}

func newCampaign(in campaignInput, now time.Time) *campaign {
	kind, id := "list", in.list
	if in.bucket != "" {
		kind, id = "bucket", in.bucket
	}
	cp := &campaign{ID: newUUID(), Name: in.name, Status: "queued", AudienceKind: kind, AudienceID: id,
		TemplateKey: in.template, Subject: nullable(in.subject), FromEmail: nullable(in.from),
		CreatedAt: isoTime(now), idempotencyKey: in.key}
	if cp.Name == "" {
		cp.Name = "Campaign to " + kind + " " + id
	}
	if in.hasSendAt && in.sendAt.After(now) {
		cp.Status = "scheduled"
		cp.ScheduledAt = nullable(isoTime(in.sendAt))
	}
	return cp
}

func (s *Server) campaignByID(id string) *campaign {
	for _, cp := range s.others.campaigns {
		if cp.ID == id {
			return cp
		}
	}
	return nil
}

// getCampaign is GET /v1/campaigns/:id.
func (s *Server) getCampaign(c *call) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := s.campaignByID(c.params["id"])
	if cp == nil {
		return refuse(http.StatusNotFound, "Unknown campaign: "+c.params["id"])
	}
	return ok(http.StatusOK, *cp)
}

// listCampaigns is GET /v1/campaigns?status&limit&offset, newest first.
func (s *Server) listCampaigns(c *call) answer {
	limit, offset := page(c)
	var statuses []string
	for _, st := range strings.Split(c.r.URL.Query().Get("status"), ",") {
		if st = strings.TrimSpace(st); st != "" {
			statuses = append(statuses, st)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []campaign
	for i := len(s.others.campaigns) - 1; i >= 0; i-- {
		if cp := s.others.campaigns[i]; len(statuses) == 0 || slices.Contains(statuses, cp.Status) {
			all = append(all, *cp)
		}
	}
	return ok(http.StatusOK, map[string]any{"campaigns": window(all, limit, offset), "hasMore": len(all) > offset+limit})
}

// cancelCampaign is POST /v1/campaigns/:id/cancel: 409 once terminal.
func (s *Server) cancelCampaign(c *call) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := s.campaignByID(c.params["id"])
	switch {
	case cp == nil:
		return refuse(http.StatusNotFound, "Unknown campaign: "+c.params["id"])
	case cp.Status != "scheduled" && cp.Status != "queued" && cp.Status != "sending":
		return refuse(http.StatusConflict, "Campaign is "+cp.Status+" and cannot be canceled")
	}
	cp.Status, cp.CanceledAt = "canceled", nullable(isoTime(c.now))
	return ok(http.StatusOK, *cp)
}
