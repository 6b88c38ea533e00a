package fakeengine

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// ClientCall is one @hogsend/client 0.67.0 call as the SDK puts it on the
// wire: Accept and Authorization always, Content-Type with a body,
// Idempotency-Key where the SDK sets one, the body as JSON.stringify writes
// it (undefined fields dropped, keys in the source's order), and the answer
// fields the SDK reads. {name} in Path, Query or Body is filled from vars.
type ClientCall struct {
	Name           string // the SDK method, e.g. "campaigns.cancel"
	Method         string
	Path           string
	Query          string // as URLSearchParams encodes it
	Body           string // "" for none
	IdempotencyKey string // sent as the header; "" for none
	Key            string // which key: KeyIngest, KeyAdmin or KeyReferrals
	Status         int
	// Want are dotted paths into the JSON answer that the SDK reads; for a
	// raw answer (a QR code), the content type's prefix.
	Want []string
	Raw  bool
	// Save names vars to fill from the answer: var ← dotted path.
	Save map[string]string
}

// Which key a call needs.
const (
	KeyIngest    = "ingest"
	KeyAdmin     = "admin"
	KeyReferrals = "referrals"
)

// ClientKeys are the bearers a run of ClientCalls uses.
type ClientKeys struct{ Ingest, Admin, Referrals string }

func (k ClientKeys) of(which string) string {
	switch which {
	case KeyAdmin:
		return k.Admin
	case KeyReferrals:
		return k.Referrals
	}
	return k.Ingest
}

// fill replaces {name} with vars[name].
func fill(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// FilledPath, FilledQuery and FilledBody are the call's wire text under vars.
func (c ClientCall) FilledPath(vars map[string]string) string  { return fill(c.Path, vars) }
func (c ClientCall) FilledQuery(vars map[string]string) string { return fill(c.Query, vars) }
func (c ClientCall) FilledBody(vars map[string]string) string  { return fill(c.Body, vars) }

// Request builds the call against base as the SDK's fetch would send it.
func (c ClientCall) Request(base string, keys ClientKeys, vars map[string]string) (*http.Request, error) {
	url := base + c.FilledPath(vars)
	if c.Query != "" {
		url += "?" + c.FilledQuery(vars)
	}
	var body *strings.Reader
	if c.Body != "" {
		body = strings.NewReader(c.FilledBody(vars))
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(c.Method, url, body)
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", c.Name, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+keys.of(c.Key))
	if c.Body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.IdempotencyKey != "" {
		req.Header.Set("Idempotency-Key", c.IdempotencyKey)
	}
	return req, nil
}

// Check verifies an answer has the status and the fields the SDK reads,
// and saves the call's vars from it.
func (c ClientCall) Check(status int, contentType string, body []byte, vars map[string]string) error {
	if status != c.Status {
		return fmt.Errorf("%s: status %d, want %d: %s", c.Name, status, c.Status, body)
	}
	if c.Raw {
		for _, prefix := range c.Want {
			if !strings.HasPrefix(contentType, prefix) {
				return fmt.Errorf("%s: content type %q, want %s…", c.Name, contentType, prefix)
			}
		}
		return nil
	}
	var answer any
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("%s: answer is not JSON: %q: %w", c.Name, body, err)
	}
	for _, path := range c.Want {
		if _, found := lookup(answer, path); !found {
			return fmt.Errorf("%s: answer lacks %s: %s", c.Name, path, body)
		}
	}
	for name, path := range c.Save {
		v, found := lookup(answer, path)
		str, isStr := v.(string)
		if !found || !isStr {
			return fmt.Errorf("%s: answer has no string %s to save as %s: %s", c.Name, path, name, body)
		}
		vars[name] = str
	}
	return nil
}

// lookup follows a dotted path through objects.
func lookup(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		obj, isObj := v.(map[string]any)
		if !isObj {
			return nil, false
		}
		if v, isObj = obj[part]; !isObj {
			return nil, false
		}
	}
	return v, true
}

// ClientCalls is every @hogsend/client 0.67.0 resource method, in an order
// in which each call's ids come from the ones before it. The caller sets
// vars["contactId"] to a contact the engine knows, and Ada (ada@example.com,
// userId u_sdk) is the person the calls act on.
func ClientCalls() []ClientCall {
	calls := contactAndEventCalls()
	calls = append(calls, messagingCalls()...)
	calls = append(calls, groupAndFlagCalls()...)
	calls = append(calls, adminPlaneCalls()...)
	calls = append(calls, referralCalls()...)
	return append(calls, ClientCall{Name: "contacts.delete", Method: "DELETE", Path: "/v1/contacts",
		Body: `{"email":"ada@example.com","userId":"u_sdk"}`, Key: KeyIngest, Status: 200, Want: []string{"deleted"}})
}

func contactAndEventCalls() []ClientCall {
	return []ClientCall{
		{Name: "contacts.upsert", Method: "PUT", Path: "/v1/contacts", Key: KeyIngest, Status: 200,
			Body: `{"email":"ada@example.com","userId":"u_sdk","anonymousId":"anon_sdk","properties":{"plan":"pro"},"lists":{"newsletter":true}}`,
			Want: []string{"id", "created", "linked"}},
		{Name: "contacts.find", Method: "GET", Path: "/v1/contacts/find", Query: "email=ada%40example.com", Key: KeyIngest, Status: 200,
			Want: []string{"contacts"}},
		{Name: "events.send", Method: "POST", Path: "/v1/events", Key: KeyIngest, Status: 202, IdempotencyKey: "sdk-evt-1",
			Body: `{"name":"user.signed_up","email":"ada@example.com","userId":"u_sdk","eventProperties":{"plan":"pro"},"contactProperties":{"seen":true},"value":49.5,"currency":"usd","lists":{"newsletter":true},"idempotencyKey":"sdk-evt-1"}`,
			Want: []string{"stored", "exits", "contactKey"}},
		{Name: "events.track", Method: "POST", Path: "/v1/events", Key: KeyIngest, Status: 202,
			Body: `{"name":"page.viewed","userId":"u_sdk","eventProperties":{"path":"/pricing"}}`,
			Want: []string{"stored", "exits", "contactKey"}},
	}
}

func messagingCalls() []ClientCall {
	return []ClientCall{
		{Name: "emails.send", Method: "POST", Path: "/v1/emails", Key: KeyIngest, Status: 202, IdempotencyKey: "sdk-mail-1",
			Body: `{"to":"ada@example.com","template":"welcome","props":{"name":"Ada"},"subject":"Hi","idempotencyKey":"sdk-mail-1"}`,
			Want: []string{"emailSendId", "status"}},
		{Name: "campaigns.send", Method: "POST", Path: "/v1/campaigns", Key: KeyIngest, Status: 202,
			Body: `{"name":"Launch","list":"newsletter","template":"welcome","props":{"name":"all"},"sendAt":"2099-01-01T00:00:00.000Z","idempotencyKey":"sdk-camp-1"}`,
			Want: []string{"campaignId", "status", "scheduledAt"}, Save: map[string]string{"campaignId": "campaignId"}},
		{Name: "campaigns.get", Method: "GET", Path: "/v1/campaigns/{campaignId}", Key: KeyIngest, Status: 200,
			Want: []string{"id", "status", "audienceKind", "audienceId", "templateKey", "totalRecipients", "createdAt"}},
		{Name: "campaigns.list", Method: "GET", Path: "/v1/campaigns", Query: "status=scheduled%2Cqueued&limit=10&offset=0", Key: KeyIngest, Status: 200,
			Want: []string{"campaigns", "hasMore"}},
		{Name: "campaigns.cancel", Method: "POST", Path: "/v1/campaigns/{campaignId}/cancel", Body: `{}`, Key: KeyIngest, Status: 200,
			Want: []string{"id", "status", "canceledAt"}},
		{Name: "lists.list", Method: "GET", Path: "/v1/lists", Key: KeyIngest, Status: 200, Want: []string{"lists"}},
		{Name: "lists.subscribe", Method: "POST", Path: "/v1/lists/newsletter/subscribe", Key: KeyIngest, Status: 200,
			Body: `{"email":"ada@example.com","userId":"u_sdk"}`, Want: []string{"subscribed"}},
		{Name: "lists.unsubscribe", Method: "POST", Path: "/v1/lists/newsletter/unsubscribe", Key: KeyIngest, Status: 200,
			Body: `{"email":"ada@example.com","userId":"u_sdk"}`, Want: []string{"subscribed"}},
	}
}

func groupAndFlagCalls() []ClientCall {
	return []ClientCall{
		{Name: "groups.identify", Method: "POST", Path: "/v1/groups", Key: KeyIngest, Status: 200,
			Body: `{"groupType":"company","groupKey":"acme inc","displayName":"Acme","properties":{"tier":"gold"}}`, Want: []string{"group.id", "group.properties"}},
		{Name: "groups.get", Method: "GET", Path: "/v1/groups/company/acme%20inc", Key: KeyIngest, Status: 200, Want: []string{"group.groupKey"}},
		{Name: "groups.list", Method: "GET", Path: "/v1/groups", Query: "groupType=company&limit=10", Key: KeyIngest, Status: 200, Want: []string{"groups"}},
		{Name: "groups.addMember", Method: "POST", Path: "/v1/groups/company/acme%20inc/members", Key: KeyIngest, Status: 200,
			Body: `{"contactId":"{contactId}","role":"owner"}`, Want: []string{"membership.id", "created"}},
		{Name: "groups.listMembers", Method: "GET", Path: "/v1/groups/company/acme%20inc/members", Query: "limit=10", Key: KeyIngest, Status: 200, Want: []string{"members"}},
		{Name: "groups.removeMember", Method: "DELETE", Path: "/v1/groups/company/acme%20inc/members/{contactId}", Key: KeyIngest, Status: 200, Want: []string{"removed"}},
		{Name: "flags.create", Method: "POST", Path: "/v1/admin/flags", Key: KeyAdmin, Status: 201,
			Body: `{"key":"new-checkout","name":"New checkout","enabled":true,"type":"boolean","rollout":100}`,
			Want: []string{"flag.id", "flag.key"}, Save: map[string]string{"flagId": "flag.id"}},
		{Name: "flags.list", Method: "GET", Path: "/v1/admin/flags", Key: KeyAdmin, Status: 200, Want: []string{"flags"}},
		{Name: "flags.evaluate", Method: "POST", Path: "/v1/flags/evaluate", Key: KeyIngest, Status: 200,
			Body: `{"userId":"u_sdk"}`, Want: []string{"flags.new-checkout"}},
		{Name: "flags.update", Method: "PATCH", Path: "/v1/admin/flags/{flagId}", Key: KeyAdmin, Status: 200,
			Body: `{"enabled":false}`, Want: []string{"flag.enabled"}},
		{Name: "flags.archive", Method: "DELETE", Path: "/v1/admin/flags/{flagId}", Key: KeyAdmin, Status: 200, Want: []string{"archived"}},
	}
}

func adminPlaneCalls() []ClientCall {
	return []ClientCall{
		{Name: "webhooks.create", Method: "POST", Path: "/v1/admin/webhooks", Key: KeyAdmin, Status: 201,
			Body: `{"url":"https://hooks.example/in","eventTypes":["contact.created"],"description":"CRM"}`,
			Want: []string{"id", "secret", "secretPrefix"}, Save: map[string]string{"webhookId": "id"}},
		{Name: "webhooks.list", Method: "GET", Path: "/v1/admin/webhooks", Query: "limit=10&includeDisabled=true", Key: KeyAdmin, Status: 200, Want: []string{"endpoints"}},
		{Name: "webhooks.get", Method: "GET", Path: "/v1/admin/webhooks/{webhookId}", Key: KeyAdmin, Status: 200, Want: []string{"id", "url", "secretPrefix"}},
		{Name: "webhooks.update", Method: "PATCH", Path: "/v1/admin/webhooks/{webhookId}", Key: KeyAdmin, Status: 200,
			Body: `{"description":null,"disabled":true}`, Want: []string{"status", "description"}},
		{Name: "webhooks.rotateSecret", Method: "POST", Path: "/v1/admin/webhooks/{webhookId}/rotate-secret", Body: `{}`, Key: KeyAdmin, Status: 200, Want: []string{"secret", "secretPrefix"}},
		{Name: "webhooks.sendTest", Method: "POST", Path: "/v1/admin/webhooks/{webhookId}/test", Body: `{}`, Key: KeyAdmin, Status: 202, Want: []string{"enqueued", "eventType"}},
		{Name: "webhooks.delete", Method: "DELETE", Path: "/v1/admin/webhooks/{webhookId}", Key: KeyAdmin, Status: 200, Want: []string{"deleted"}},
		{Name: "links.create", Method: "POST", Path: "/v1/admin/links", Key: KeyAdmin, Status: 201,
			Body: `{"url":"https://example.com/launch","source":"api","idempotencyKey":"print-run-1"}`,
			Want: []string{"id", "url", "existing"}, Save: map[string]string{"linkId": "id"}},
		{Name: "links.get", Method: "GET", Path: "/v1/admin/links/{linkId}", Key: KeyAdmin, Status: 200, Want: []string{"id", "clicks", "destinations"}},
		{Name: "links.list", Method: "GET", Path: "/v1/admin/links", Query: "limit=10&includeArchived=true", Key: KeyAdmin, Status: 200, Want: []string{"links", "total"}},
		{Name: "links.update", Method: "PATCH", Path: "/v1/admin/links/{linkId}", Key: KeyAdmin, Status: 200,
			Body: `{"originalUrl":"https://example.com/v2"}`, Want: []string{"originalUrl"}},
		{Name: "links.qr", Method: "GET", Path: "/v1/admin/links/{linkId}/qr", Query: "format=png&size=256", Key: KeyAdmin, Status: 200, Raw: true, Want: []string{"image/png"}},
		{Name: "links.archive", Method: "DELETE", Path: "/v1/admin/links/{linkId}", Key: KeyAdmin, Status: 200, Want: []string{"archivedAt"}},
	}
}

func referralCalls() []ClientCall {
	return []ClientCall{
		{Name: "referrals.touch", Method: "POST", Path: "/v1/referrals/touch", Key: KeyReferrals, Status: 200,
			Body: `{"referrerKey":"u_sdk","refereeKey":"u_friend","source":"invite"}`, Want: []string{"created"}},
		{Name: "referrals.report", Method: "GET", Path: "/v1/referrals/report", Query: "model=last&depth=2", Key: KeyReferrals, Status: 200, Want: []string{"rows"}},
		{Name: "referrals.tree", Method: "GET", Path: "/v1/referrals/tree/u_sdk", Query: "depth=3", Key: KeyReferrals, Status: 200, Want: []string{"nodes"}},
		{Name: "referrals.import", Method: "POST", Path: "/v1/referrals/import", Key: KeyReferrals, Status: 200,
			Body: `{"touches":[{"referrerKey":"u_sdk","refereeKey":"u_old","touchedAt":"2026-01-01T00:00:00.000Z"}]}`, Want: []string{"inserted", "skipped"}},
	}
}
