package app

import (
	"context"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/config"
	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// TestRebuildIdentity: Redis loses everything; rebuild-identity restores it
// from ClickHouse plus the spool entries ClickHouse had not received, and every
// earlier identity resolves to the same contact.
func TestRebuildIdentity(t *testing.T) {
	cfg, redis, ch := serverConfig(t)
	testRebuildIdentity(t, cfg, redis, ch.Kill, func() { ch.Restart(60 * time.Second) })
}

// TestRebuildIdentityOnCluster: the same on a 2 shards × 2 replicas
// ClickHouse cluster, through its Distributed tables, with every server down
// while the last writes arrive (docs/clickhouse-cluster.md).
func TestRebuildIdentityOnCluster(t *testing.T) {
	redis := testenv.Redis(t)
	c := testenv.StartClickHouseCluster(t, 2, 2)
	cfg := baseConfig(t, t.TempDir())
	cfg.RedisURL, cfg.ClickHouseURL, cfg.ClickHouseCluster = redis.RedisURL(), c.URL("hogsend"), testenv.ClusterName
	kill := func() {
		for _, p := range c.Nodes() {
			p.Kill()
		}
	}
	restart := func() {
		for _, p := range c.Nodes() {
			c.Restart(t, p)
		}
	}
	testRebuildIdentity(t, cfg, redis, kill, restart)
}

// testRebuildIdentity loses Redis, with killCH and restartCH taking
// ClickHouse down while the last writes arrive and back before the rebuild.
func testRebuildIdentity(t *testing.T, cfg config.Config, redis *testenv.Process, killCH, restartCH func()) {
	cfg.ShutdownTimeout = 2 * time.Second
	h := startHarness(t, cfg)
	a := upsert(t, h, `{"email":"rb.a@example.com","userId":"u_rb_a","properties":{"p":1}}`)["id"].(string)
	upsert(t, h, `{"userId":"u_rb_a","email":"rb.a2@example.com"}`) // alias email
	c := upsert(t, h, `{"email":"rb.c@example.com"}`)["id"].(string)
	d := upsert(t, h, `{"userId":"u_rb_d"}`)["id"].(string)
	if r := upsert(t, h, `{"email":"rb.c@example.com","userId":"u_rb_d"}`); r["id"] != d {
		t.Fatalf("merge survivor = %v, want %s (not %s)", r["id"], d, c)
	}
	if r := h.json("POST", "/v1/events", `{"name":"rb","userId":"u_rb_a"}`, "Idempotency-Key", "rb-key"); r.status != 202 {
		t.Fatalf("event: %d %s", r.status, r.body)
	}
	h.rows("SELECT 1") // drained
	// The last writes stay in the spool: ClickHouse is down when they arrive.
	killCH()
	late := upsert(t, h, `{"email":"rb.late@example.com","anonymousId":"anon-late"}`)["id"].(string)
	if r := h.json("POST", "/v1/events", `{"name":"rb","email":"rb.late@example.com"}`, "Idempotency-Key", "rb-late"); r.status != 202 {
		t.Fatalf("late event: %d %s", r.status, r.body)
	}
	key := h.key
	h.stop()

	store, err := identity.NewRedis(context.Background(), redis.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Client().FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	store.Close()
	restartCH()

	st, err := RebuildIdentity(context.Background(), cfg, testLogger(), false)
	if err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	if st.SpoolEntries < 2 || st.Contacts < 4 || st.APIKeys < 1 || st.IdempotencyKeys < 2 {
		t.Fatalf("rebuild stats = %+v", st)
	}
	t.Logf("rebuild restored %+v", st)

	cfg.Listen = baseConfig(t, cfg.DataDir).Listen
	h2 := startHarness(t, cfg)
	h2.key = key // minted before the loss
	check := func(query, want string) {
		t.Helper()
		cs := find(t, h2, query)
		if len(cs) != 1 || cs[0]["id"] != want {
			t.Fatalf("find %s = %v, want %s", query, cs, want)
		}
	}
	check("email=rb.a@example.com", a)
	check("email=rb.a2@example.com", a)
	check("userId=u_rb_a", a)
	check("email=rb.c@example.com", d) // merged away: resolves to the survivor
	check("userId=u_rb_d", d)
	check("email=rb.late@example.com", late)
	for _, k := range []string{"rb-key", "rb-late"} {
		r := h2.json("POST", "/v1/events", `{"name":"rb","userId":"u_rb_a"}`, "Idempotency-Key", k)
		if r.status != 202 || r.json(t)["stored"] != false {
			t.Fatalf("idempotency key %s after rebuild: %d %s", k, r.status, r.body)
		}
	}
	// Writes continue on the restored contacts with newer versions.
	upsert(t, h2, `{"userId":"u_rb_a","properties":{"p":2}}`)
	if p := find(t, h2, "userId=u_rb_a")[0]["properties"].(map[string]any)["p"]; p != float64(2) {
		t.Fatalf("property after rebuild = %v", p)
	}
	if r := upsert(t, h2, `{"anonymousId":"anon-late","email":"rb.late@example.com"}`); r["id"] != late || r["created"] != false {
		t.Fatalf("anonymous key after rebuild = %v", r)
	}
	rows := h2.rows("SELECT version FROM contacts FINAL WHERE external_id = 'u_rb_a'")
	if len(rows) != 1 {
		t.Fatalf("contact rows = %v", rows)
	}
}
