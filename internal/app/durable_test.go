package app

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// pauseWriter stops the ClickHouse writer, so the spool fills up to its cap.
func pauseWriter(t *testing.T, a *App) {
	t.Helper()
	a.stopWriter()
	err := <-a.writerDone
	a.writerDone <- nil // what closeDeps waits for, should the test end paused
	if err != nil {
		t.Fatalf("writer: %v", err)
	}
}

// resumeWriter starts the writer again from its committed cursor.
func resumeWriter(a *App) {
	ctx, cancel := context.WithCancel(context.Background())
	a.stopWriter = cancel
	a.writerDone = make(chan error, 1)
	go func() { a.writerDone <- a.Writer.Run(ctx) }()
}

// fillSpool sends events with padded properties until the spool refuses
// even an unpadded one.
func fillSpool(t *testing.T, h *harness) {
	t.Helper()
	for _, size := range []int{4096, 512, 64, 0} {
		pad := strings.Repeat("f", size)
		for i := 0; ; i++ {
			if i == 1000 {
				t.Fatal("the spool never reached its cap")
			}
			r := h.json("POST", "/v1/events", fmt.Sprintf(`{"name":"fill","userId":"u_fill","eventProperties":{"i":%d,"pad":%q}}`, i, pad))
			if r.status == 503 {
				break
			}
			if r.status != 202 {
				t.Fatalf("filling the spool: %d %s", r.status, r.body)
			}
		}
	}
}

// TestFailedIdentityWritesEmbeddedRestart: at the spool cap, an upsert that
// merges two contacts and a PostHog $identify that merges an anonymous
// person into them are answered 503 after their resolve changed the
// in-process store. Once the spool takes writes again, the person's next
// event carries those changes; after a restart (the store rebuilt from
// ClickHouse) there is one live contact, holding every key as an alias.
func TestFailedIdentityWritesEmbeddedRestart(t *testing.T) {
	requireChDB(t)
	dir := t.TempDir()
	cfg := baseConfig(t, dir)
	cfg.SpoolMaxBytes = 64 << 10
	h := startHarness(t, cfg)
	emailID := upsert(t, h, `{"email":"durable@example.com"}`)["id"].(string)
	userID := upsert(t, h, `{"userId":"u_durable"}`)["id"].(string)
	if r := h.do("POST", "/batch/", "", "application/json", `{"api_key":"phc_x","batch":[{"event":"view","distinct_id":"anon-durable"}]}`); r.status != 200 {
		t.Fatalf("anonymous capture: %d %s", r.status, r.body)
	}
	anon := h.rows("SELECT toString(contact_id) FROM user_events WHERE distinct_id = 'anon-durable'")
	if len(anon) != 1 {
		t.Fatalf("anonymous event rows = %v", anon)
	}
	anonID := anon[0][0]

	pauseWriter(t, h.app)
	fillSpool(t, h)
	if r := h.json("PUT", "/v1/contacts", `{"email":"durable@example.com","userId":"u_durable"}`); r.status != 503 {
		t.Fatalf("merge at the spool cap: %d %s, want 503", r.status, r.body)
	}
	identify := `{"api_key":"phc_x","batch":[{"event":"$identify","distinct_id":"u_durable","properties":{"$anon_distinct_id":"anon-durable"}}]}`
	if r := h.do("POST", "/batch/", "", "application/json", identify); r.status != 503 {
		t.Fatalf("$identify at the spool cap: %d %s, want 503", r.status, r.body)
	}
	if cs := find(t, h, "email=durable@example.com"); len(cs) != 1 || cs[0]["id"] != userID {
		t.Fatalf("the store did not merge before the failed write: %v", cs)
	}

	if n := metricValue(t, h, "hogsend_identity_pending_rows"); n < 5 {
		t.Fatalf("hogsend_identity_pending_rows = %v, want the two merges' contacts and aliases", n)
	}

	resumeWriter(h.app)
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := h.json("POST", "/v1/events", `{"name":"after","userId":"u_durable"}`)
		if r.status == 202 {
			break
		}
		if r.status != 503 || time.Now().After(deadline) {
			t.Fatalf("event after the writer resumed: %d %s", r.status, r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Rows of people who do not write again (the filler's last contact row)
	// are written by the flush that runs every second.
	waitUntil(t, "no identity rows pending", 10*time.Second, func() bool {
		return metricValue(t, h, "hogsend_identity_pending_rows") == 0
	})
	h.rows("SELECT 1") // drained
	key := h.key
	h.stop()

	cfg.Listen = baseConfig(t, dir).Listen
	h2 := startHarness(t, cfg)
	h2.key = key
	for _, q := range []string{"email=durable@example.com", "userId=u_durable"} {
		if cs := find(t, h2, q); len(cs) != 1 || cs[0]["id"] != userID || cs[0]["externalId"] != "u_durable" || cs[0]["email"] != "durable@example.com" {
			t.Fatalf("after restart find %s = %v, want the one contact %s", q, cs, userID)
		}
	}
	live := h2.count(fmt.Sprintf("SELECT count() FROM contacts FINAL WHERE is_deleted = 0 AND id IN ('%s', '%s', '%s')", emailID, userID, anonID))
	if live != 1 {
		t.Fatalf("live contacts among the three merged = %d, want 1", live)
	}
	aliases := h2.rows(fmt.Sprintf("SELECT concat(toString(alias_kind), ':', alias_value) FROM contact_aliases FINAL WHERE is_deleted = 0 AND contact_id = '%s'", userID))
	var got []string
	for _, r := range aliases {
		got = append(got, r[0])
	}
	sort.Strings(got)
	// The email-only contact's key was its id: merged, it stays an alias.
	want := []string{"anonymous:anon-durable", "email:durable@example.com", "external:" + emailID, "external:u_durable"}
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("aliases of %s = %v, want %v", userID, got, want)
	}
	if n := h2.count(fmt.Sprintf("SELECT count() FROM contact_aliases FINAL WHERE is_deleted = 0 AND contact_id IN ('%s', '%s')", emailID, anonID)); n != 0 {
		t.Fatalf("%d live aliases still name a merged-away contact", n)
	}
	// The anonymous id is that person's after the restart too.
	if r := h2.do("POST", "/batch/", "", "application/json", `{"api_key":"phc_x","batch":[{"event":"view.again","distinct_id":"anon-durable"}]}`); r.status != 200 {
		t.Fatalf("capture after restart: %d %s", r.status, r.body)
	}
	if rows := h2.rows("SELECT toString(contact_id) FROM user_events WHERE event = 'view.again'"); len(rows) != 1 || rows[0][0] != userID {
		t.Fatalf("anonymous event after restart landed on %v, want %s", rows, userID)
	}
}
