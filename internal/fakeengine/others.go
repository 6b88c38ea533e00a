package fakeengine

import (
	"encoding/json"
	"strconv"
)

// otherState holds what the routes beyond contacts and events keep.
type otherState struct {
	emails       []EmailSend
	emailByKey   map[string]string // idempotency key → email send id
	campaigns    []*campaign
	groups       []*group
	memberships  map[string][]*membership // group id → memberships
	flags        []*featureFlag
	webhooks     []*webhook
	links        []*link
	referralKeys map[string]bool // referrer|referee pairs touched
}

func newOtherState() otherState {
	return otherState{emailByKey: map[string]string{}, memberships: map[string][]*membership{}, referralKeys: map[string]bool{}}
}

type routeDef struct {
	method, pattern string
	guard           guard
	handle          func(*call) answer
}

// otherRoutes are the routes @hogsend/client 0.67.0 calls beyond contacts
// and events.
func (s *Server) otherRoutes() []routeDef {
	return []routeDef{
		{"POST", "/v1/emails", guardIngest, s.sendEmail},
		{"POST", "/v1/campaigns", guardIngest, s.sendCampaign},
		{"GET", "/v1/campaigns", guardIngest, s.listCampaigns},
		{"GET", "/v1/campaigns/:id", guardIngest, s.getCampaign},
		{"POST", "/v1/campaigns/:id/cancel", guardIngest, s.cancelCampaign},
		{"GET", "/v1/lists", guardIngestOrBrowser, s.listLists},
		{"POST", "/v1/lists/:id/subscribe", guardIngestOrBrowser, s.subscribe(true)},
		{"POST", "/v1/lists/:id/unsubscribe", guardIngestOrBrowser, s.subscribe(false)},
		{"POST", "/v1/groups", guardIngest, s.identifyGroup},
		{"GET", "/v1/groups", guardIngest, s.listGroups},
		{"GET", "/v1/groups/:type/:key", guardIngest, s.getGroup},
		{"POST", "/v1/groups/:type/:key/members", guardIngest, s.addMember},
		{"GET", "/v1/groups/:type/:key/members", guardIngest, s.listMembers},
		{"DELETE", "/v1/groups/:type/:key/members/:contactId", guardIngest, s.removeMember},
		{"GET", "/v1/flags", guardIngestOrBrowser, s.flagsForBrowser},
		{"POST", "/v1/flags/evaluate", guardIngest, s.evaluateFlags},
		{"GET", "/v1/admin/flags", guardAdmin, s.listFlags},
		{"POST", "/v1/admin/flags", guardAdmin, s.createFlag},
		{"PATCH", "/v1/admin/flags/:id", guardAdmin, s.updateFlag},
		{"DELETE", "/v1/admin/flags/:id", guardAdmin, s.archiveFlag},
		{"POST", "/v1/admin/webhooks", guardAdmin, s.createWebhook},
		{"GET", "/v1/admin/webhooks", guardAdmin, s.listWebhooks},
		{"GET", "/v1/admin/webhooks/:id", guardAdmin, s.getWebhook},
		{"PATCH", "/v1/admin/webhooks/:id", guardAdmin, s.updateWebhook},
		{"DELETE", "/v1/admin/webhooks/:id", guardAdmin, s.deleteWebhook},
		{"POST", "/v1/admin/webhooks/:id/rotate-secret", guardAdmin, s.rotateWebhookSecret},
		{"POST", "/v1/admin/webhooks/:id/test", guardAdmin, s.testWebhook},
		{"POST", "/v1/admin/links", guardAdmin, s.createLink},
		{"GET", "/v1/admin/links", guardAdmin, s.listLinks},
		{"GET", "/v1/admin/links/:id", guardAdmin, s.getLink},
		{"PATCH", "/v1/admin/links/:id", guardAdmin, s.updateLink},
		{"DELETE", "/v1/admin/links/:id", guardAdmin, s.archiveLink},
		{"GET", "/v1/admin/links/:id/qr", guardAdmin, s.linkQR},
		{"POST", "/v1/referrals/touch", guardReferrals, s.touchReferral},
		{"GET", "/v1/referrals/report", guardReferrals, s.referralReport},
		{"GET", "/v1/referrals/tree/:id", guardReferrals, s.referralTree},
		{"POST", "/v1/referrals/import", guardReferrals, s.importReferrals},
	}
}

// parsed decodes c's body and starts its schema; a non-nil answer is a
// refusal of the JSON itself.
func parsed(c *call) (*schema, *answer) {
	v, bad := decodeBody(c.r, c.body)
	if bad != nil {
		return nil, bad
	}
	return newSchema(v), nil
}

// page reads limit (default 50, 1–200) and offset from the query.
func page(c *call) (int, int) {
	q := c.r.URL.Query()
	limit, offset := 50, 0
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n >= 1 && n <= 200 {
		limit = n
	}
	if n, err := strconv.Atoi(q.Get("offset")); err == nil && n >= 0 {
		offset = n
	}
	return limit, offset
}

func window[T any](items []T, limit, offset int) []T {
	if offset >= len(items) {
		return []T{}
	}
	return items[offset:min(len(items), offset+limit)]
}

// toObject is v's JSON encoding read back as an object.
func toObject(v any) map[string]any {
	b, _ := json.Marshal(v)
	out := map[string]any{}
	_ = json.Unmarshal(b, &out)
	return out
}
