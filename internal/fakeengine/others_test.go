package fakeengine

import (
	"strings"
	"testing"
)

// TestOtherRouteRefusals: each route beyond contacts and events validates
// its body and refuses as the engine does.
func TestOtherRouteRefusals(t *testing.T) {
	f := start(t, Options{Buckets: []string{"power-users"}})
	f.send("PUT", "/v1/contacts", f.ingest, `{"userId":"u_noemail"}`)
	f.send("POST", "/v1/admin/flags", f.admin, `{"key":"taken","name":"Taken","type":"boolean"}`)
	cases := []struct {
		name, method, path, key, body string
		status                        int
		want                          string
	}{
		{"email without recipient", "POST", "/v1/emails", f.ingest, `{"template":"welcome"}`, 400, `{"error":"to or userId is required"}`},
		{"email without template", "POST", "/v1/emails", f.ingest, `{"to":"a@b.co"}`, 400, `"ZodError"`},
		{"email bad address", "POST", "/v1/emails", f.ingest, `{"to":"nope","template":"welcome"}`, 400, `Invalid email address`},
		{"email unknown template", "POST", "/v1/emails", f.ingest, `{"to":"a@b.co","template":"nope"}`, 400, `{"error":"Unknown template: nope"}`},
		{"email skip check without admin", "POST", "/v1/emails", f.ingest, `{"to":"a@b.co","template":"welcome","skipPreferenceCheck":true}`, 403, `{"error":"skipPreferenceCheck requires a full-admin key"}`},
		{"email skip check with admin", "POST", "/v1/emails", f.admin, `{"to":"a@b.co","template":"welcome","skipPreferenceCheck":true}`, 202, `"status":"queued"`},
		{"email userId without email", "POST", "/v1/emails", f.ingest, `{"userId":"u_noemail","template":"welcome"}`, 404, `{"error":"No resolvable email for recipient"}`},
		{"campaign list and bucket", "POST", "/v1/campaigns", f.ingest, `{"list":"newsletter","bucket":"power-users","template":"welcome"}`, 400, "Exactly one of `list` or `bucket` is required"},
		{"campaign neither", "POST", "/v1/campaigns", f.ingest, `{"template":"welcome"}`, 400, "Exactly one of"},
		{"campaign unknown list", "POST", "/v1/campaigns", f.ingest, `{"list":"nope","template":"welcome"}`, 404, `{"error":"Unknown list: nope"}`},
		{"campaign unknown bucket", "POST", "/v1/campaigns", f.ingest, `{"bucket":"nope","template":"welcome"}`, 404, `{"error":"Unknown bucket: nope"}`},
		{"campaign bucket", "POST", "/v1/campaigns", f.ingest, `{"bucket":"power-users","template":"welcome"}`, 202, `"status":"queued"`},
		{"campaign past sendAt", "POST", "/v1/campaigns", f.ingest, `{"list":"newsletter","template":"welcome","sendAt":"2020-01-01T00:00:00Z"}`, 400, `sendAt is in the past`},
		{"campaign bad sendAt", "POST", "/v1/campaigns", f.ingest, `{"list":"newsletter","template":"welcome","sendAt":"tomorrow"}`, 400, `Invalid ISO datetime`},
		{"campaign unknown", "GET", "/v1/campaigns/nope", f.ingest, ``, 404, `{"error":"Unknown campaign: nope"}`},
		{"cancel unknown", "POST", "/v1/campaigns/nope/cancel", f.ingest, `{}`, 404, `{"error":"Unknown campaign: nope"}`},
		{"subscribe unknown list", "POST", "/v1/lists/nope/subscribe", f.ingest, `{"email":"a@b.co"}`, 404, `{"error":"Unknown list: nope"}`},
		{"subscribe no identity", "POST", "/v1/lists/newsletter/subscribe", f.ingest, `{}`, 400, `{"error":"email or userId is required"}`},
		{"subscribe without email", "POST", "/v1/lists/newsletter/subscribe", f.ingest, `{"userId":"u_noemail"}`, 400, msgNoEmailForLists},
		{"group without key", "POST", "/v1/groups", f.ingest, `{"groupType":"company"}`, 400, `"ZodError"`},
		{"group unknown", "GET", "/v1/groups/company/nope", f.ingest, ``, 404, `{"error":"Group not found"}`},
		{"member unknown contact", "POST", "/v1/groups/company/acme/members", f.ingest, `{"contactId":"nope"}`, 404, `{"error":"Contact not found"}`},
		{"remove from unknown group", "DELETE", "/v1/groups/company/nope/members/x", f.ingest, ``, 200, `{"removed":false}`},
		{"members of unknown group", "GET", "/v1/groups/company/nope/members", f.ingest, ``, 200, `{"members":[]}`},
		{"evaluate without identity", "POST", "/v1/flags/evaluate", f.ingest, `{}`, 400, `{"error":"email or userId is required"}`},
		{"flag taken", "POST", "/v1/admin/flags", f.admin, `{"key":"taken","name":"Again","type":"boolean"}`, 409, `{"error":"Flag key already exists: taken"}`},
		{"flag bad type", "POST", "/v1/admin/flags", f.admin, `{"key":"k","name":"K","type":"percent"}`, 400, `invalid_value`},
		{"flag unknown", "PATCH", "/v1/admin/flags/nope", f.admin, `{"enabled":true}`, 404, `{"error":"Flag not found"}`},
		{"archive unknown flag", "DELETE", "/v1/admin/flags/nope", f.admin, ``, 404, `{"error":"Flag not found"}`},
		{"webhook no event types", "POST", "/v1/admin/webhooks", f.admin, `{"url":"https://h.example","eventTypes":[]}`, 400, `At least one event type is required`},
		{"webhook bad url", "POST", "/v1/admin/webhooks", f.admin, `{"url":"ftp://h","eventTypes":["contact.created"]}`, 400, `Invalid URL`},
		{"webhook unknown", "GET", "/v1/admin/webhooks/nope", f.admin, ``, 404, `{"error":"Webhook endpoint not found"}`},
		{"link without url", "POST", "/v1/admin/links", f.admin, `{}`, 400, `"ZodError"`},
		{"link bad key", "POST", "/v1/admin/links", f.admin, `{"url":"https://e.example","idempotencyKey":"-x"}`, 400, `must match pattern`},
		{"link slug and key", "POST", "/v1/admin/links", f.admin, `{"url":"https://e.example","slug":"s","idempotencyKey":"k"}`, 400, `mutually exclusive`},
		{"link unknown", "GET", "/v1/admin/links/nope", f.admin, ``, 404, `{"error":"Link not found"}`},
		{"referral without referee", "POST", "/v1/referrals/touch", f.admin, `{"referrerKey":"u_1"}`, 400, `a referrer and a referee are required`},
		{"referral bad depth", "GET", "/v1/referrals/report?depth=9", f.admin, ``, 400, `depth must be an integer 1-5`},
		{"import without touches", "POST", "/v1/referrals/import", f.admin, `{}`, 400, `"ZodError"`},
		{"malformed JSON anywhere", "POST", "/v1/groups", f.ingest, `{"groupType":`, 400, `{"error":"Malformed JSON in request body"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.send(c.method, c.path, c.key, c.body)
			if r.status != c.status || !strings.Contains(r.body, c.want) {
				t.Fatalf("%d %s, want %d with %s", r.status, r.body, c.status, c.want)
			}
		})
	}
}

// TestIdempotentCreates: emails, campaigns and links answer a repeated
// key with what the first call made.
func TestIdempotentCreates(t *testing.T) {
	f := start(t, Options{})
	a := f.send("POST", "/v1/emails", f.ingest, `{"to":"a@b.co","template":"welcome","idempotencyKey":"body"}`, "Idempotency-Key", "m1").json(t)
	b := f.send("POST", "/v1/emails", f.ingest, `{"to":"x@b.co","template":"receipt"}`, "Idempotency-Key", "m1").json(t)
	if a["emailSendId"] != b["emailSendId"] || len(f.Emails()) != 1 || f.Emails()[0].IdempotencyKey != "m1" {
		t.Fatalf("emails: %v %v", a, b)
	}
	c1 := f.send("POST", "/v1/campaigns", f.ingest, `{"list":"newsletter","template":"welcome","idempotencyKey":"c1"}`).json(t)
	c2 := f.send("POST", "/v1/campaigns", f.ingest, `{"list":"newsletter","template":"welcome","idempotencyKey":"c1"}`).json(t)
	if c1["campaignId"] != c2["campaignId"] {
		t.Fatalf("campaigns: %v %v", c1, c2)
	}
	l1 := f.send("POST", "/v1/admin/links", f.admin, `{"url":"https://e.example/a","idempotencyKey":"k1"}`)
	l2 := f.send("POST", "/v1/admin/links", f.admin, `{"url":"https://e.example/a","idempotencyKey":"k1"}`)
	l3 := f.send("POST", "/v1/admin/links", f.admin, `{"url":"https://e.example/b","idempotencyKey":"k1"}`)
	if l1.status != 201 || l2.status != 200 || l2.json(t)["existing"] != true || l2.json(t)["id"] != l1.json(t)["id"] || l3.status != 409 {
		t.Fatalf("links: %d %d %s %d", l1.status, l2.status, l2.body, l3.status)
	}
}
