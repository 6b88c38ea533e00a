package app

import (
	"os"
	"testing"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

func requireChDB(t *testing.T) {
	t.Helper()
	if p := os.Getenv("CHDB_LIB_PATH"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return
		}
	}
	testenv.Unavailable(t, "libchdb.so not found (CHDB_LIB_PATH) for the embedded mode")
}

// TestNativeAPIEmbeddedMode runs the native suite on the embedded default
// (in-process identity store, chDB), then restarts on the same data directory
// and checks contacts, aliases, keys and idempotency claims survived.
func TestNativeAPIEmbeddedMode(t *testing.T) {
	requireChDB(t)
	dir := t.TempDir()
	cfg := baseConfig(t, dir)
	h := startHarness(t, cfg)
	runNativeSuite(t, h)

	// State to find again after the restart.
	id := upsert(t, h, `{"email":"persist@example.com","userId":"u_persist","properties":{"k":"v"}}`)["id"].(string)
	upsert(t, h, `{"userId":"u_persist","email":"persist.alias@example.com"}`)
	if r := h.json("POST", "/v1/events", `{"name":"persist","userId":"u_persist"}`, "Idempotency-Key", "persist-key"); r.status != 202 {
		t.Fatalf("event: %d %s", r.status, r.body)
	}
	key := h.key
	h.stop()

	cfg.Listen = baseConfig(t, dir).Listen
	h2 := startHarness(t, cfg)
	h2.key = key // the key minted before the restart must still work
	cs := find(t, h2, "email=persist.alias@example.com")
	if len(cs) != 1 || cs[0]["id"] != id || cs[0]["externalId"] != "u_persist" || cs[0]["properties"].(map[string]any)["k"] != "v" {
		t.Fatalf("after restart find = %v (want id %s)", cs, id)
	}
	r := h2.json("POST", "/v1/events", `{"name":"persist","userId":"u_persist"}`, "Idempotency-Key", "persist-key")
	if r.status != 202 || r.json(t)["stored"] != false {
		t.Fatalf("idempotency after restart: %d %s", r.status, r.body)
	}
	if n := h2.count("SELECT count() FROM user_events FINAL WHERE event = 'persist'"); n != 1 {
		t.Fatalf("persist events = %d, want 1", n)
	}
	if r := upsert(t, h2, `{"email":"persist@example.com"}`); r["id"] != id || r["created"] != false {
		t.Fatalf("upsert after restart = %v", r)
	}
}
