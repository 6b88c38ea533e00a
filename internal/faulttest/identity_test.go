package faulttest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// call sends one request with the stack's ingest key ("" for capture) and
// returns its status and body.
func (s *stack) call(method, path, key, body string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := plainClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// upsertID upserts body and returns the contact id.
func (s *stack) upsertID(body string) string {
	s.t.Helper()
	status, out := s.call("PUT", "/v1/contacts", s.key, body)
	var r struct{ ID string }
	if status != 200 || json.Unmarshal([]byte(out), &r) != nil || r.ID == "" {
		s.t.Fatalf("upsert %s: %d %s", body, status, out)
	}
	return r.ID
}

// fillSpool sends events, padded and then not, until the spool refuses even
// an unpadded one.
func (s *stack) fillSpool() {
	s.t.Helper()
	for _, size := range []int{4096, 512, 64, 0} {
		pad := strings.Repeat("f", size)
		for i := 0; ; i++ {
			if i == 1000 {
				s.t.Fatal("the spool never reached its cap")
			}
			status, out := s.call("POST", "/v1/events", s.key, fmt.Sprintf(`{"name":"fill","userId":"u_fill","eventProperties":{"i":%d,"pad":%q}}`, i, pad))
			if status == 503 {
				break
			}
			if status != 202 {
				s.t.Fatalf("filling the spool: %d %s", status, out)
			}
		}
	}
}

// TestFailedIdentityWritesServerMode: with ClickHouse down and the spool at
// HOGSEND_SPOOL_MAX_BYTES, an upsert that merges two contacts and a PostHog
// $identify that merges an anonymous person into them are answered 503 after
// Redis applied them. Once ClickHouse is back and the spool drained, the
// person's next event is acknowledged, and ClickHouse (contacts FINAL,
// contact_aliases FINAL) agrees with Redis: one live contact holding every
// key, the merged-away contacts deleted.
func TestFailedIdentityWritesServerMode(t *testing.T) {
	s := newStack(t, "HOGSEND_SPOOL_MAX_BYTES="+itoa(spoolMax))
	c := openCH(t, s.ch)
	s.start()
	emailID := s.upsertID(`{"email":"durable@example.com"}`)
	userID := s.upsertID(`{"userId":"u_durable"}`)
	if status, out := s.call("POST", "/batch/", "", `{"api_key":"phc_x","batch":[{"event":"view","distinct_id":"anon-durable"}]}`); status != 200 {
		t.Fatalf("anonymous capture: %d %s", status, out)
	}
	waitDrained(t, s.base, c, "view", 30*time.Second)
	anon := c.mustQuery("SELECT toString(contact_id) FROM hogsend.user_events WHERE distinct_id = 'anon-durable'")
	if len(anon) != 1 {
		t.Fatalf("anonymous event rows = %v", anon)
	}
	anonID := anon[0][0]

	s.ch.Kill()
	s.fillSpool()
	if status, out := s.call("PUT", "/v1/contacts", s.key, `{"email":"durable@example.com","userId":"u_durable"}`); status != 503 {
		t.Fatalf("merge at the spool cap: %d %s, want 503", status, out)
	}
	identify := `{"api_key":"phc_x","batch":[{"event":"$identify","distinct_id":"u_durable","properties":{"$anon_distinct_id":"anon-durable"}}]}`
	if status, out := s.call("POST", "/batch/", "", identify); status != 503 {
		t.Fatalf("$identify at the spool cap: %d %s, want 503", status, out)
	}

	s.ch.Restart(60 * time.Second)
	waitDrained(t, s.base, c, "fill", 40*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, out := s.call("POST", "/v1/events", s.key, `{"name":"after","userId":"u_durable"}`)
		if status == 202 {
			break
		}
		if status != 503 || time.Now().After(deadline) {
			t.Fatalf("event after ClickHouse returned: %d %s", status, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitDrained(t, s.base, c, "after", 30*time.Second)

	redisIDs := redisContacts(t, s, "email:durable@example.com", "external:u_durable", "anonymous:anon-durable")
	for k, id := range redisIDs {
		if id != userID {
			t.Fatalf("redis resolves %s to %s, want the survivor %s", k, id, userID)
		}
	}
	aliases := c.mustQuery(`SELECT concat(toString(alias_kind), ':', alias_value), toString(contact_id), is_deleted
FROM hogsend.contact_aliases FINAL WHERE alias_value IN ('durable@example.com', 'u_durable', 'anon-durable')`)
	if len(aliases) != 3 {
		t.Fatalf("clickhouse alias rows = %v, want the three keys", aliases)
	}
	for _, r := range aliases {
		if r[1] != redisIDs[r[0]] || r[2] != "0" {
			t.Errorf("clickhouse alias %s → %s (deleted %s); redis says %s", r[0], r[1], r[2], redisIDs[r[0]])
		}
	}
	contacts := c.mustQuery(fmt.Sprintf(`SELECT toString(id), is_deleted FROM hogsend.contacts FINAL WHERE id IN ('%s', '%s', '%s')`, emailID, userID, anonID))
	deleted := map[string]string{}
	for _, r := range contacts {
		deleted[r[0]] = r[1]
	}
	if len(contacts) != 3 || deleted[userID] != "0" || deleted[emailID] != "1" || deleted[anonID] != "1" {
		t.Fatalf("clickhouse contacts FINAL = %v; want %s live, %s and %s deleted", contacts, userID, emailID, anonID)
	}
	if n := c.count(fmt.Sprintf("SELECT count() FROM hogsend.contact_aliases FINAL WHERE is_deleted = 0 AND contact_id IN ('%s', '%s')", emailID, anonID)); n != 0 {
		t.Fatalf("%d live clickhouse aliases still name a merged-away contact", n)
	}
}

// redisContacts resolves each "kind:value" key in Redis, as the proxy does,
// without creating anything.
func redisContacts(t *testing.T, s *stack, keys ...string) map[string]string {
	t.Helper()
	store, err := identity.NewRedis(context.Background(), s.redis.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ops := make([]identity.ResolveOp, len(keys))
	for i, k := range keys {
		kind, v, _ := strings.Cut(k, ":")
		ops[i] = identity.ResolveOp{Keys: []identity.Key{{Kind: kind, Value: v}}, NoCreate: true, Now: time.Now().UnixMilli()}
	}
	res := make([]identity.ResolveResult, len(ops))
	if err := store.Resolve(context.Background(), ops, res); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(keys))
	for i, k := range keys {
		if res[i].Err != nil || !res[i].Found {
			t.Fatalf("redis has no contact for %s: %v", k, res[i].Err)
		}
		out[k] = res[i].Contact.ID.String()
	}
	return out
}
