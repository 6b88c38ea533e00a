package app

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/apikeys"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// revokeChecks revokes a used key through DELETE /v1/admin/api-keys/{id} and
// checks the answers; it returns the revoked key.
func revokeChecks(t *testing.T, h *harness) string {
	t.Helper()
	victim := h.mintKey("victim", []string{"ingest"}, "")
	event := func(key string) int {
		t.Helper()
		return h.do("POST", "/v1/events", key, "application/json", `{"name":"rv","userId":"u_rv"}`).status
	}
	if s := event(victim); s != 202 {
		t.Fatalf("event with the key before revocation: %d", s)
	}
	id := apikeys.Hash(victim)[:16]
	path := "/v1/admin/api-keys/" + id
	wantError(t, h.do("DELETE", path, h.key, "", ""), 403, "Forbidden: insufficient scope")
	r := h.do("DELETE", path, h.admin, "", "")
	if r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	m := r.json(t)
	revokedAt, _ := m["revokedAt"].(string)
	if m["id"] != id || m["keyPrefix"] != victim[:8] || m["name"] != "victim" || len(revokedAt) != 24 {
		t.Fatalf("revoke answer %s", r.body)
	}
	if s := event(victim); s != 401 {
		t.Fatalf("event with the revoked key: %d, want 401 at once on this instance", s)
	}
	if r := h.do("DELETE", path, h.admin, "", ""); r.status != 200 || r.json(t)["revokedAt"] != revokedAt {
		t.Fatalf("revoking again: %d %s, want the first revocation", r.status, r.body)
	}
	wantError(t, h.do("DELETE", "/v1/admin/api-keys/0123456789abcdef", h.admin, "", ""), 404, "API key not found")
	wantError(t, h.do("DELETE", "/v1/admin/api-keys/"+victim, h.admin, "", ""), 404, "API key not found")
	if s := event(h.key); s != 202 {
		t.Fatalf("another key after the revocation: %d", s)
	}
	q := "SELECT count() FROM api_keys FINAL WHERE key_hash = '" + apikeys.Hash(victim) + "' AND revoked_at > '1971-01-01 00:00:00'"
	if n := h.count(q); n != 1 {
		t.Fatalf("revoked rows in clickhouse: %d, want 1", n)
	}
	return victim
}

// TestAPIKeyRevocationServerMode: DELETE revokes a key at once on the
// instance, durably in ClickHouse, so a rebuild after Redis lost its data
// keeps it revoked; publishable origins the check refuses get 400; past the
// failure limit the client gets 429 with Retry-After while a cached key still
// works.
func TestAPIKeyRevocationServerMode(t *testing.T) {
	cfg, redis, _ := serverConfig(t)
	h := startHarness(t, cfg)
	victim := revokeChecks(t, h)
	for _, o := range []string{"*", "null", "https://app.example/path", "ftp://app.example"} {
		r := h.do("POST", "/v1/admin/api-keys", h.admin, "application/json",
			`{"name":"b","publishable":true,"allowedOrigins":["`+o+`"]}`)
		if r.status != 400 {
			t.Fatalf("origin %q: %d %s, want 400", o, r.status, r.body)
		}
	}
	h.stop()

	store, err := identity.NewRedis(context.Background(), redis.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Client().FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	store.Close()
	if _, err := RebuildIdentity(context.Background(), cfg, testLogger(), false); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	cfg.Listen = baseConfig(t, cfg.DataDir).Listen
	h2 := startHarness(t, cfg)
	event := func(key string) response {
		return h2.do("POST", "/v1/events", key, "application/json", `{"name":"rv","userId":"u_rv"}`)
	}
	wantError(t, event(victim), 401, "Unauthorized")
	if r := event(h2.key); r.status != 202 { // cached from now on
		t.Fatalf("valid key: %d %s", r.status, r.body)
	}

	// The revoked key's refusal was the first of 30 failures allowed a minute.
	for i := range 29 {
		wantError(t, event("hsk_guess"+strconv.Itoa(i)), 401, "Unauthorized")
	}
	r := event("hsk_guess-more")
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("past the failure limit: %d %v %s, want 429 with Retry-After", r.status, r.header, r.body)
	}
	if r := event(h2.key); r.status != 202 {
		t.Fatalf("cached key from a throttled client: %d %s", r.status, r.body)
	}
}

// TestAPIKeyRevocationEmbedded: a key revoked through the route stays
// revoked after a restart, which rebuilds the store from the embedded tables
// and the spool.
func TestAPIKeyRevocationEmbedded(t *testing.T) {
	requireChDB(t)
	dir := t.TempDir()
	cfg := baseConfig(t, dir)
	h := startHarness(t, cfg)
	victim := revokeChecks(t, h)
	// Revoked last, so its row is still in the spool at the restart.
	late := h.mintKey("late", []string{"ingest"}, "")
	if r := h.do("DELETE", "/v1/admin/api-keys/"+apikeys.Hash(late)[:16], h.admin, "", ""); r.status != 200 {
		t.Fatalf("revoke late: %d %s", r.status, r.body)
	}
	h.stop()

	cfg.Listen = baseConfig(t, dir).Listen
	h2 := startHarness(t, cfg)
	for _, k := range []string{victim, late} {
		wantError(t, h2.do("POST", "/v1/events", k, "application/json", `{"name":"rv","userId":"u_rv"}`), 401, "Unauthorized")
	}
	keys, err := h2.app.Store.APIKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	revoked := 0
	for _, k := range keys {
		if k.RevokedAt != 0 {
			revoked++
			if k.RevokedAt < time.Now().Add(-time.Hour).UnixMilli() {
				t.Fatalf("revocation time %d not kept", k.RevokedAt)
			}
		}
	}
	if revoked != 2 {
		t.Fatalf("revoked keys after restart: %d of %d, want 2", revoked, len(keys))
	}
}
