package fakeengine

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
)

// TestKeysStoredAsHashes: only the lower-case hex SHA-256 of a key is kept,
// and minted keys have the engine's shape.
func TestKeysStoredAsHashes(t *testing.T) {
	f := start(t, Options{})
	key := f.MintKey(ScopeIngest)
	pk := f.MintPublishable(testOrigin)
	if !strings.HasPrefix(key, "hsk_") || len(key) != 47 || !strings.HasPrefix(pk, "pk_") || len(pk) != 46 {
		t.Fatalf("key shapes: %q (%d) %q (%d)", key, len(key), pk, len(pk))
	}
	sum := sha256.Sum256([]byte(key))
	f.mu.Lock()
	defer f.mu.Unlock()
	for h, k := range f.keys {
		if h == key || h == pk || strings.Contains(k.prefix+k.id, key[8:]) {
			t.Fatalf("a key is stored in clear: %q", h)
		}
	}
	if k := f.keys[hex.EncodeToString(sum[:])]; k == nil || k.prefix != key[:8] {
		t.Fatalf("key not found by its hex SHA-256")
	}
}

// TestAuthRefusals: every refusal of docs/contracts/hogsend-api.md §2.4, with
// the engine's status and body, and the keys that pass.
func TestAuthRefusals(t *testing.T) {
	f := start(t, Options{})
	read := f.MintKey(ScopeRead)
	journeyAdmin := f.MintKey(ScopeJourneyAdmin)
	referrals := f.MintKey(ScopeReferrals)
	revoked := f.MintKey(ScopeIngest)
	f.Revoke(revoked)
	expired := f.MintKey(ScopeIngest)
	f.Expire(expired)
	pk := f.MintPublishable(testOrigin)
	pkNoOrigins := f.MintPublishable()
	const me = "/v1/contacts/me"
	cases := []struct {
		name, method, path, auth string
		headers                  []string
		status                   int
		body                     string
	}{
		{"no header", "GET", me, "", nil, 401, `{"error":"Unauthorized"}`},
		{"lower-case bearer", "GET", me, "bearer " + f.ingest, nil, 401, `{"error":"Unauthorized"}`},
		{"basic", "GET", me, "Basic " + f.ingest, nil, 401, `{"error":"Unauthorized"}`},
		{"empty bearer", "GET", me, "Bearer ", nil, 401, `{"error":"Unauthorized"}`},
		{"unknown key", "GET", me, "Bearer hsk_unknown", nil, 401, `{"error":"Unauthorized"}`},
		{"revoked", "GET", me, "Bearer " + revoked, nil, 401, `{"error":"Unauthorized"}`},
		{"expired", "GET", me, "Bearer " + expired, nil, 401, `{"error":"API key expired"}`},
		{"read lacks ingest", "GET", me, "Bearer " + read, nil, 403, `{"error":"Forbidden: insufficient scope"}`},
		{"journey-admin lacks ingest", "POST", "/v1/events", "Bearer " + journeyAdmin, nil, 403, `{"error":"Forbidden: insufficient scope"}`},
		{"referrals lacks ingest", "GET", me, "Bearer " + referrals, nil, 403, `{"error":"Forbidden: insufficient scope"}`},
		{"ingest passes", "GET", me, "Bearer " + f.ingest, nil, 200, `{"identified":false,"traits":{}}`},
		{"full-admin implies ingest", "GET", me, "Bearer " + f.admin, nil, 200, `{"identified":false,"traits":{}}`},
		{"legacy admin key", "GET", me, "Bearer " + testAdminText, nil, 200, `{"identified":false,"traits":{}}`},
		{"publishable from its origin", "GET", me, "Bearer " + pk, []string{"Origin", testOrigin}, 200, `{"identified":false,"traits":{}}`},
		{"publishable without Origin", "GET", me, "Bearer " + pk, nil, 403, `{"error":"Forbidden: origin not allowed"}`},
		{"publishable from another origin", "GET", me, "Bearer " + pk, []string{"Origin", "https://evil.example"}, 403, `{"error":"Forbidden: origin not allowed"}`},
		{"origin match is exact", "GET", me, "Bearer " + pk, []string{"Origin", testOrigin + "/"}, 403, `{"error":"Forbidden: origin not allowed"}`},
		{"publishable without origins", "GET", me, "Bearer " + pkNoOrigins, []string{"Origin", testOrigin}, 403, `{"error":"Forbidden: origin not allowed"}`},
		{"publishable on find", "GET", "/v1/contacts/find?email=a@b.co", "Bearer " + pk, []string{"Origin", testOrigin}, 403, `{"error":"Forbidden: insufficient scope"}`},
		{"publishable on delete", "DELETE", "/v1/contacts", "Bearer " + pk, []string{"Origin", testOrigin}, 403, `{"error":"Forbidden: insufficient scope"}`},
		{"publishable on emails", "POST", "/v1/emails", "Bearer " + pk, []string{"Origin", testOrigin}, 403, `{"error":"Forbidden: insufficient scope"}`},
		{"ingest on admin", "GET", "/v1/admin/flags", "Bearer " + f.ingest, nil, 403, `{"error":"Forbidden: insufficient scope"}`},
		{"full-admin on admin", "GET", "/v1/admin/flags", "Bearer " + f.admin, nil, 200, `{"flags":[]}`},
		{"ingest on referrals", "GET", "/v1/referrals/report", "Bearer " + f.ingest, nil, 403, `{"error":"Forbidden: insufficient scope"}`},
		{"referrals on referrals", "GET", "/v1/referrals/report", "Bearer " + referrals, nil, 200, `{"nextCursor":null,"rows":[],"totals":[]}`},
		{"guard before 404 under a guarded prefix", "GET", "/v1/emails", "", nil, 401, `{"error":"Unauthorized"}`},
		{"404 under a guarded prefix", "GET", "/v1/emails", "Bearer " + f.ingest, nil, 404, `{"error":"Not Found"}`},
		{"no such route", "POST", "/v1/contacts", "Bearer " + f.ingest, nil, 404, `{"error":"Not Found"}`},
		{"health needs no key", "GET", "/v1/health", "", nil, 200, `{"status":"ok"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			headers := c.headers
			if c.auth != "" {
				headers = append([]string{"Authorization", c.auth}, headers...)
			}
			r := f.send(c.method, c.path, "", "", headers...)
			if r.status != c.status || r.body != c.body {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, c.status, c.body)
			}
			if r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("content type %q", r.header.Get("Content-Type"))
			}
		})
	}
}

// TestRevokeIsImmediate: the fake caches nothing, so a revoked key is
// refused on the next request.
func TestRevokeIsImmediate(t *testing.T) {
	f := start(t, Options{})
	key := f.MintKey(ScopeIngest)
	if r := f.send("GET", "/v1/contacts/me", key, ""); r.status != http.StatusOK {
		t.Fatalf("before: %d %s", r.status, r.body)
	}
	f.Revoke(key)
	if r := f.send("GET", "/v1/contacts/me", key, ""); r.status != http.StatusUnauthorized {
		t.Fatalf("after: %d %s", r.status, r.body)
	}
}

// TestUserTokenGate: a publishable key acts on a person only with a valid
// userToken for that userId (docs/contracts/hogsend-api.md §2.5).
func TestUserTokenGate(t *testing.T) {
	f := start(t, Options{})
	pk := f.MintPublishable(testOrigin)
	good := f.UserToken("u_1", 3600e9)
	expiredTok := f.UserToken("u_1", -1)
	cases := []struct {
		name, body string
		status     int
		want       string
	}{
		{"anonymous", `{"name":"page","anonymousId":"anon_1"}`, 202, `"stored":true`},
		{"email without token", `{"name":"page","email":"a@b.co"}`, 403, msgNeedUserToken},
		{"userId with token", `{"name":"page","userId":"u_1","userToken":"` + good + `"}`, 202, `"contactKey":"u_1"`},
		{"token for another user", `{"name":"page","userId":"u_2","userToken":"` + good + `"}`, 403, msgUserTokenIdentity},
		{"email with token but no userId", `{"name":"page","email":"a@b.co","userToken":"` + good + `"}`, 403, msgUserTokenIdentity},
		{"expired token", `{"name":"page","userId":"u_1","userToken":"` + expiredTok + `"}`, 403, msgInvalidUserToken},
		{"forged token", `{"name":"page","userId":"u_1","userToken":"` + good[:len(good)-2] + `AA"}`, 403, msgInvalidUserToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.send("POST", "/v1/events", pk, c.body, "Origin", testOrigin)
			if r.status != c.status || !strings.Contains(r.body, c.want) {
				t.Fatalf("%d %s, want %d with %q", r.status, r.body, c.status, c.want)
			}
		})
	}
	// The anonymous event observed without a contact; an anonymous write
	// that would attach to an identified contact is refused.
	if _, found := f.Contact("anon_1"); found || f.Events()[0].ContactID != "" || f.Events()[0].Source != "inapp" {
		t.Fatalf("anonymous observation made a contact: %+v", f.Events()[0])
	}
	f.send("PUT", "/v1/contacts", f.ingest, `{"userId":"u_9","anonymousId":"anon_9"}`)
	r := f.send("POST", "/v1/events", pk, `{"name":"page","anonymousId":"anon_9"}`, "Origin", testOrigin)
	if r.status != 403 || !strings.Contains(r.body, msgAnonymousIdentified) {
		t.Fatalf("attach to identified: %d %s", r.status, r.body)
	}
}
