package app

import (
	"context"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/apikeys"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// testPublishable covers the pk_ rows of the auth table and the publishable
// identity rules, plus revoked keys.
func testPublishable(t *testing.T, h *harness) {
	const origin = "https://app.example"
	r := h.do("POST", "/v1/admin/api-keys", h.admin, "application/json",
		`{"name":"browser","publishable":true,"allowedOrigins":["`+origin+`"]}`)
	if r.status != 201 {
		t.Fatalf("mint pk_: %d %s", r.status, r.body)
	}
	pk := r.json(t)["key"].(string)
	if pk[:3] != "pk_" || len(pk) != 46 {
		t.Fatalf("publishable key %q", pk)
	}
	wantError(t, h.do("POST", "/v1/admin/api-keys", h.admin, "application/json", `{"name":"x","publishable":true}`), 400,
		"a publishable key needs at least one allowed origin")
	call := func(method, path, body string, origin string) response {
		t.Helper()
		if origin == "" {
			return h.do(method, path, pk, "application/json", body)
		}
		return h.do(method, path, pk, "application/json", body, "Origin", origin)
	}
	wantError(t, call("PUT", "/v1/contacts", `{"anonymousId":"anon-pk"}`, ""), 403, "Forbidden: origin not allowed")
	wantError(t, call("PUT", "/v1/contacts", `{"anonymousId":"anon-pk"}`, "https://evil.example"), 403, "Forbidden: origin not allowed")
	wantError(t, call("GET", "/v1/contacts/find?email=a@b.co", "", origin), 403, "Forbidden: insufficient scope")
	wantError(t, call("DELETE", "/v1/contacts", `{"email":"a@b.co"}`, origin), 403, "Forbidden: insufficient scope")
	wantError(t, call("POST", "/v1/admin/api-keys", `{"name":"x"}`, origin), 403, "Forbidden: insufficient scope")

	// Anonymous writes are allowed.
	up := call("PUT", "/v1/contacts", `{"anonymousId":"anon-pk","properties":{"theme":"dark"}}`, origin)
	if up.status != 200 || up.json(t)["created"] != true {
		t.Fatalf("anonymous upsert: %d %s", up.status, up.body)
	}
	wantError(t, call("PUT", "/v1/contacts", `{"properties":{"a":1}}`, origin), 400, "email or userId is required")
	// Acting on a person needs a userToken for that userId.
	wantError(t, call("PUT", "/v1/contacts", `{"email":"pk@example.com"}`, origin), 403,
		"publishable key cannot act on another identity without a userToken")
	wantError(t, call("POST", "/v1/events", `{"name":"x","userId":"u_pk","userToken":"garbage"}`, origin), 403, "Invalid userToken")
	expired := apikeys.SignUserToken("u_pk", time.Now().Add(-time.Minute), testUserTokenSecret)
	wantError(t, call("POST", "/v1/events", `{"name":"x","userId":"u_pk","userToken":"`+expired+`"}`, origin), 403, "Invalid userToken")
	forged := apikeys.SignUserToken("u_pk", time.Now().Add(time.Hour), "another-secret")
	wantError(t, call("POST", "/v1/events", `{"name":"x","userId":"u_pk","userToken":"`+forged+`"}`, origin), 403, "Invalid userToken")
	other := apikeys.SignUserToken("someone-else", time.Now().Add(time.Hour), testUserTokenSecret)
	wantError(t, call("POST", "/v1/events", `{"name":"x","userId":"u_pk","userToken":"`+other+`"}`, origin), 403,
		"userToken does not authorize this identity")
	good := apikeys.SignUserToken("u_pk", time.Now().Add(time.Hour), testUserTokenSecret)
	ev := call("POST", "/v1/events", `{"name":"pk.identified","userId":"u_pk","userToken":"`+good+`"}`, origin)
	if ev.status != 202 || ev.json(t)["contactKey"] != "u_pk" {
		t.Fatalf("event with userToken: %d %s", ev.status, ev.body)
	}

	// An anonymous event with no value and no groups is an observation: stored
	// under the anonymous id, no contact created.
	ev = call("POST", "/v1/events", `{"name":"pk.observed","anonymousId":"obs-1"}`, origin)
	if ev.status != 202 || ev.json(t)["contactKey"] != "obs-1" || ev.json(t)["stored"] != true {
		t.Fatalf("observation: %d %s", ev.status, ev.body)
	}
	rows := h.rows("SELECT user_id, toString(contact_id), source FROM user_events WHERE event IN ('pk.observed', 'pk.identified') ORDER BY event")
	if len(rows) != 2 || rows[0][2] != "inapp" || rows[1][0] != "obs-1" || rows[1][1] != "00000000-0000-0000-0000-000000000000" || rows[1][2] != "inapp" {
		t.Fatalf("publishable events = %v", rows)
	}
	if n := h.count("SELECT count() FROM contacts FINAL WHERE anonymous_id = 'obs-1'"); n != 0 {
		t.Fatalf("observation created a contact")
	}

	// Once the anonymous id belongs to an identified person, the browser key
	// may no longer write through it.
	upsert(t, h, `{"email":"anon.owner@example.com","anonymousId":"anon-pk"}`)
	wantError(t, call("PUT", "/v1/contacts", `{"anonymousId":"anon-pk","properties":{"x":1}}`, origin), 403,
		"publishable anonymous write cannot attach to or merge an identified contact")
	wantError(t, call("POST", "/v1/events", `{"name":"x","anonymousId":"anon-pk","value":5}`, origin), 403,
		"publishable anonymous write cannot attach to or merge an identified contact")
	if cs := find(t, h, "email=anon.owner@example.com"); len(cs) != 1 || cs[0]["properties"].(map[string]any)["x"] != nil {
		t.Fatalf("refused write changed the contact: %v", cs)
	}

	// A pk_ key that also holds a secret scope is refused; a revoked key is unknown.
	ctx := context.Background()
	store := func(k canonical.APIKey) {
		t.Helper()
		if err := h.app.Store.PutAPIKey(ctx, k); err != nil {
			t.Fatalf("store key %s: %v", k.Prefix, err)
		}
		if got, ok, err := h.app.Store.APIKey(ctx, k.Hash); err != nil || !ok || got.RevokedAt != k.RevokedAt {
			t.Fatalf("stored key %s = %+v, %v, %v", k.Prefix, got, ok, err)
		}
	}
	mixed := "pk_mixed-scope-key-000000000000000000000000000"
	store(canonical.APIKey{Hash: apikeys.Hash(mixed), Prefix: mixed[:8], Scopes: []string{"ingest-public", "ingest"}, AllowedOrigins: []string{origin}})
	wantError(t, h.do("PUT", "/v1/contacts", mixed, "application/json", `{"anonymousId":"z"}`, "Origin", origin), 403, "Forbidden: insufficient scope")
	revoked := "hsk_revoked-key-00000000000000000000000000000000"
	store(canonical.APIKey{Hash: apikeys.Hash(revoked), Prefix: revoked[:8], Scopes: []string{"ingest"}, RevokedAt: time.Now().UnixMilli()})
	wantError(t, h.do("PUT", "/v1/contacts", revoked, "application/json", `{"userId":"z"}`), 401, "Unauthorized")
}
