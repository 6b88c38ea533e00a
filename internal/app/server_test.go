package app

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNativeAPIServerMode runs the native suite against real redis-server and
// clickhouse-server processes.
func TestNativeAPIServerMode(t *testing.T) {
	cfg, _, _ := serverConfig(t)
	h := startHarness(t, cfg)
	runNativeSuite(t, h)
}

// TestRedisOutage: while Redis is down, requests that need identity get 503
// with Retry-After and are not acknowledged; /readyz names the dependency; the
// service recovers by itself.
func TestRedisOutage(t *testing.T) {
	cfg, redis, _ := serverConfig(t)
	h := startHarness(t, cfg)
	if r := h.json("POST", "/v1/events", `{"name":"before","userId":"u_out"}`); r.status != 202 {
		t.Fatalf("before outage: %d %s", r.status, r.body)
	}
	baseline := goroutines(t, h)
	redis.Kill()
	var r response
	// The idempotency claim cannot be checked either: the request is refused,
	// never acknowledged on a guess.
	for i := 0; i < 200; i++ {
		r = h.json("POST", "/v1/events", `{"name":"during","userId":"u_out"}`, "Idempotency-Key", "outage-"+strconv.Itoa(i))
		if r.status != 503 || r.header.Get("Retry-After") == "" {
			t.Fatalf("during outage: %d %v %s", r.status, r.header, r.body)
		}
	}
	rz := h.do("GET", "/readyz", "", "", "")
	if rz.status != 503 || !strings.Contains(string(rz.body), `"identity":{"ok":false`) {
		t.Fatalf("readyz during outage: %d %s", rz.status, rz.body)
	}
	redis.Restart(15 * time.Second)
	restarted := time.Now()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r = h.json("POST", "/v1/events", `{"name":"after","userId":"u_out"}`)
		if r.status == 202 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.status != 202 {
		t.Fatalf("no recovery after Redis restart: %d %s", r.status, r.body)
	}
	t.Logf("Redis outage: 200 requests refused with 503, 0 stored; first 202 %s after the restart", time.Since(restarted).Round(time.Millisecond))
	// 200 refused requests left no goroutines (or their connections) behind.
	if now := goroutines(t, h); now > baseline+10 {
		t.Fatalf("goroutines %d after the outage, %d before", now, baseline)
	}
	// A key refused during the outage was never claimed.
	if r := h.json("POST", "/v1/events", `{"name":"during.retry","userId":"u_out"}`, "Idempotency-Key", "outage-0"); r.status != 202 || r.json(t)["stored"] != true {
		t.Fatalf("retry of a refused key: %d %s", r.status, r.body)
	}
	if n := h.count("SELECT count() FROM user_events FINAL WHERE user_id = 'u_out'"); n != 3 {
		t.Fatalf("events for u_out = %d, want 3 (the refused ones must not be stored)", n)
	}
}

// TestConcurrentFirstEvents: many clients sending the first events of the same
// new person through HTTP end with exactly one contact.
func TestConcurrentFirstEvents(t *testing.T) {
	cfg, _, _ := serverConfig(t)
	h := startHarness(t, cfg)
	var wg sync.WaitGroup
	keys := make([]string, 50)
	client := &http.Client{Timeout: 30 * time.Second}
	for i := range keys {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req, _ := http.NewRequest("POST", h.base+"/v1/events", strings.NewReader(`{"name":"first","email":"race@example.com"}`))
			req.Header.Set("Authorization", "Bearer "+h.key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 202 {
				t.Errorf("status %d", resp.StatusCode)
			}
		}(i)
	}
	wg.Wait()
	if cs := find(t, h, "email=race@example.com"); len(cs) != 1 {
		t.Fatalf("contacts = %d, want 1", len(cs))
	}
	if n := h.count("SELECT count(DISTINCT contact_id) FROM user_events WHERE event = 'first'"); n != 1 {
		t.Fatalf("distinct contacts on events = %d", n)
	}
	if n := h.count("SELECT count() FROM user_events WHERE event = 'first'"); n != 50 {
		t.Fatalf("events = %d, want 50", n)
	}
}

// TestClickHouseOutage: while ClickHouse is down the proxy keeps acknowledging
// into the spool, /readyz names ClickHouse and shows the backlog, and once it
// is back everything arrives exactly once.
func TestClickHouseOutage(t *testing.T) {
	cfg, _, ch := serverConfig(t)
	h := startHarness(t, cfg)
	send := func(i int) {
		t.Helper()
		r := h.json("POST", "/v1/events", `{"name":"ch.outage","userId":"u_ch","eventProperties":{"i":`+strconv.Itoa(i)+`}}`)
		if r.status != 202 {
			t.Fatalf("event %d: %d %s", i, r.status, r.body)
		}
	}
	for i := 0; i < 10; i++ {
		send(i)
	}
	ch.Kill()
	for i := 10; i < 60; i++ {
		send(i)
	}
	rz := h.do("GET", "/readyz", "", "", "")
	if rz.status != 503 || !strings.Contains(string(rz.body), `"clickhouse":{"ok":false`) || !strings.Contains(string(rz.body), "writer backlog") {
		t.Fatalf("readyz during outage: %d %s", rz.status, rz.body)
	}
	ch.Restart(60 * time.Second)
	restarted := time.Now()
	if n := h.count("SELECT count() FROM user_events FINAL WHERE event = 'ch.outage'"); n != 60 {
		t.Fatalf("events after outage = %d, want 60", n)
	}
	t.Logf("ClickHouse outage: 60 acknowledged (50 while down), 60 stored once; drained %s after the restart", time.Since(restarted).Round(time.Millisecond))
	if n := h.count("SELECT uniqExact(id) FROM user_events WHERE event = 'ch.outage'"); n != 60 {
		t.Fatalf("distinct ids = %d, want 60", n)
	}
	h.waitReady(t)
}
