package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// The tests in this file prove the rows of README.md § "Failure behaviour"
// that no other test can fail on: each breaks one dependency while the
// service runs and asserts the answers, /readyz and the stored rows.

// identityRoute is one request that cannot be answered without the identity
// store.
type identityRoute struct {
	name, method, path, key, contentType, body string
}

// identityRoutes are every route that needs the identity store, with key the
// bearer the native ones use; uncached is a minted key the proxy never looked
// up, so its request takes the auth path to the store.
func identityRoutes(key, uncached string) []identityRoute {
	const js = "application/json"
	return []identityRoute{
		{"upsert", "PUT", "/v1/contacts", key, js, `{"userId":"u_rd","properties":{"outage":true}}`},
		{"find", "GET", "/v1/contacts/find?userId=u_rd", key, "", ""},
		{"delete", "DELETE", "/v1/contacts", key, js, `{"userId":"u_rd"}`},
		{"event", "POST", "/v1/events", key, js, `{"name":"rd.native","userId":"u_rd"}`},
		{"event with an uncached key", "POST", "/v1/events", uncached, js, `{"name":"rd.uncached","userId":"u_rd"}`},
		{"event with an unknown key", "POST", "/v1/events", "made-up-key-0123456789", js, `{"name":"rd.unknown","userId":"u_rd"}`},
		{"capture /batch/", "POST", "/batch/", "", js, `{"api_key":"phc_x","batch":[{"event":"rd.batch","distinct_id":"d-rd","uuid":"0190e0a0-0000-7000-8000-0000000000d1"}]}`},
		{"capture /e/", "POST", "/e/", "", js, `{"api_key":"phc_x","event":"rd.e","distinct_id":"d-rd","uuid":"0190e0a0-0000-7000-8000-0000000000d2"}`},
	}
}

// TestRedisDownRefusesEveryIdentityRoute: with Redis down every route that
// needs identity answers 503 with Retry-After: 1 (never 401 for a key it
// could not look up), /readyz names identity, and nothing sent during the
// outage is stored or changes the contact.
func TestRedisDownRefusesEveryIdentityRoute(t *testing.T) {
	cfg, redis, _ := serverConfig(t)
	h := startHarness(t, cfg)
	// AOF fsyncs once a second: a kill right after the upsert could lose
	// it, which is not what this test is about.
	fsyncEveryWrite(t, redis.RedisURL())
	uncached := h.mintKey("never-used", []string{"ingest"}, "")
	before := upsert(t, h, `{"userId":"u_rd"}`)["id"]
	redis.Kill()

	for _, rt := range identityRoutes(h.key, uncached) {
		r := h.do(rt.method, rt.path, rt.key, rt.contentType, rt.body)
		if r.status != 503 || r.header.Get("Retry-After") != "1" {
			t.Errorf("%s with Redis down: %d Retry-After %q %s, want 503 and Retry-After: 1",
				rt.name, r.status, r.header.Get("Retry-After"), r.body)
		}
	}
	// /readyz runs its checks at most once a second: poll past a cached answer.
	waitUntil(t, "readyz to name identity", 10*time.Second, func() bool {
		rz := h.do("GET", "/readyz", "", "", "")
		return rz.status == 503 && strings.Contains(string(rz.body), `"identity":{"ok":false`)
	})

	redis.Restart(15 * time.Second)
	waitUntil(t, "the service to answer after the Redis restart", 20*time.Second, func() bool {
		return h.json("GET", "/v1/contacts/find?userId=u_rd", "").status == 200
	})
	cs := find(t, h, "userId=u_rd")
	if len(cs) != 1 || cs[0]["id"] != before {
		t.Fatalf("contact after the outage = %v, want the one contact %v (the refused delete must not apply)", cs, before)
	}
	if props, _ := cs[0]["properties"].(map[string]any); props["outage"] != nil {
		t.Fatalf("the refused upsert changed the contact: %v", props)
	}
	if n := h.count("SELECT count() FROM user_events WHERE startsWith(event, 'rd.')"); n != 0 {
		t.Fatalf("%d events sent during the outage are stored", n)
	}
}

// TestSpoolCapRefusesWholeAndReleasesClaims: at HOGSEND_SPOOL_MAX_BYTES a
// native event and a PostHog capture are refused with 503 + Retry-After: 1
// and add no byte to the spool; their idempotency key and uuid claims are
// released, so once the writer frees segments the retries are stored, once.
func TestSpoolCapRefusesWholeAndReleasesClaims(t *testing.T) {
	cfg, _, _ := serverConfig(t)
	cfg.SpoolMaxBytes = 64 << 10
	h := startHarness(t, cfg)
	const (
		uuid    = "0190e0a0-0000-7000-8000-0000000000c1"
		capture = `{"api_key":"phc_x","batch":[{"event":"cap.capture","distinct_id":"d-cap","uuid":"` + uuid + `"}]}`
		native  = `{"name":"cap.native","userId":"u_cap"}`
	)
	pauseWriter(t, h.app)
	fillSpool(t, h)
	atCap := metricValue(t, h, "hogsend_spool_bytes")

	refused := []response{
		h.json("POST", "/v1/events", native, "Idempotency-Key", "cap-key"),
		h.do("POST", "/batch/", "", "application/json", capture),
	}
	assertNotAcknowledged(t, "at the spool cap", refused)
	if now := metricValue(t, h, "hogsend_spool_bytes"); now != atCap {
		t.Fatalf("hogsend_spool_bytes went from %v to %v for refused requests: a refusal must write nothing", atCap, now)
	}
	if n := metricValue(t, h, "hogsend_spool_bytes"); n > float64(cfg.SpoolMaxBytes) {
		t.Fatalf("hogsend_spool_bytes %v over the cap %d", n, cfg.SpoolMaxBytes)
	}
	// /readyz runs its checks at most once a second: poll past a cached answer.
	waitUntil(t, "readyz to name the full spool", 10*time.Second, func() bool {
		h.json("POST", "/v1/events", native, "Idempotency-Key", "cap-key") // keeps the refusal recent
		rz := h.do("GET", "/readyz", "", "", "")
		return rz.status == 503 && strings.Contains(string(rz.body), `"spool":{"ok":false`)
	})

	resumeWriter(h.app)
	retryUntilAccepted(t, h, "native retry", func() response {
		return h.json("POST", "/v1/events", native, "Idempotency-Key", "cap-key")
	}, 202, `"stored":true`)
	retryUntilAccepted(t, h, "capture retry", func() response {
		return h.do("POST", "/batch/", "", "application/json", capture)
	}, 200, `"status":"Ok"`)
	for _, q := range []string{
		"SELECT count() FROM user_events WHERE event = 'cap.native'",
		"SELECT count() FROM user_events WHERE event = 'cap.capture' AND toString(id) = '" + uuid + "'",
	} {
		if n := h.count(q); n != 1 {
			t.Fatalf("%s = %d, want 1: the refused request's claim must be released and its retry stored once", q, n)
		}
	}
}

// assertNotAcknowledged fails for each answer that is not 503 with
// Retry-After: 1, the answer of a request that could not be made durable.
func assertNotAcknowledged(t *testing.T, when string, answers []response) {
	t.Helper()
	for i, r := range answers {
		if r.status != 503 || r.header.Get("Retry-After") != "1" {
			t.Errorf("request %d %s: %d Retry-After %q %s, want 503 and Retry-After: 1", i, when, r.status, r.header.Get("Retry-After"), r.body)
		}
	}
}

// retryUntilAccepted repeats send while it answers 503 (the writer is still
// freeing segments) and fails on any other answer than want with body part.
func retryUntilAccepted(t *testing.T, h *harness, what string, send func() response, want int, part string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := send()
		if r.status == want && strings.Contains(string(r.body), part) {
			return
		}
		if r.status != 503 || time.Now().After(deadline) {
			t.Fatalf("%s: %d %s, want %d with %s", what, r.status, r.body, want, part)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestClickHouseSlow: a ClickHouse that stops answering mid-insert (SIGSTOP)
// costs clients nothing: events keep getting 202, /readyz names clickhouse
// with the writer backlog, and once it answers again every acknowledged
// event is stored once, even if an insert that timed out had reached it.
func TestClickHouseSlow(t *testing.T) {
	cfg, _, ch := serverConfig(t)
	cfg.ClickHouseURL += "?read_timeout=2s&dial_timeout=1s"
	h := startHarness(t, cfg)
	send := func(i int) {
		t.Helper()
		r := h.json("POST", "/v1/events", fmt.Sprintf(`{"name":"ch.slow","userId":"u_slow","eventProperties":{"i":%d}}`, i))
		if r.status != 202 {
			t.Fatalf("event %d: %d %s", i, r.status, r.body)
		}
	}
	for i := 0; i < 10; i++ {
		send(i)
	}
	ch.Pause()
	for i := 10; i < 60; i++ {
		send(i)
	}
	waitUntil(t, "readyz to name clickhouse with the backlog", 30*time.Second, func() bool {
		rz := h.do("GET", "/readyz", "", "", "")
		return rz.status == 503 && strings.Contains(string(rz.body), `"clickhouse":{"ok":false`) &&
			strings.Contains(string(rz.body), "writer backlog")
	})
	ch.Resume()
	if n := h.count("SELECT count() FROM user_events FINAL WHERE event = 'ch.slow'"); n != 60 {
		t.Fatalf("events after ClickHouse answered again = %d, want 60", n)
	}
	if n := h.count("SELECT uniqExact(id) FROM user_events WHERE event = 'ch.slow'"); n != 60 {
		t.Fatalf("distinct ids = %d, want 60", n)
	}
	h.waitReady(t)
}

// fsyncEveryWrite makes Redis fsync its AOF before answering each write.
func fsyncEveryWrite(t *testing.T, url string) {
	t.Helper()
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	if err := c.ConfigSet(context.Background(), "appendfsync", "always").Err(); err != nil {
		t.Fatal(err)
	}
}
