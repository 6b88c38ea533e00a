package app

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posthog/posthog-go"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// TestPostHogSDK drives the running proxy with the real posthog-go client
// (capture, identify, alias, batch) and checks PostHog's identity rules and
// the shared contact with the native API.
func TestPostHogSDK(t *testing.T) {
	cfg, _, _ := serverConfig(t)
	h := startHarness(t, cfg)
	client, err := posthog.NewWithConfig("phc_test_project", posthog.Config{
		Endpoint: h.base, Interval: 50 * time.Millisecond, BatchSize: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(client.Enqueue(posthog.Capture{DistinctId: "anon-ph-1", Event: "$pageview", Properties: posthog.NewProperties().Set("$current_url", "https://app.example/pricing").Set("$session_id", "s-1")}))
	must(client.Enqueue(posthog.Identify{DistinctId: "ph-user-1", Properties: posthog.NewProperties().Set("email", "PH.User@Example.com").Set("plan", "pro")}))
	must(client.Enqueue(posthog.Alias{DistinctId: "ph-user-1", Alias: "anon-ph-1"}))
	must(client.Enqueue(posthog.Capture{DistinctId: "ph-user-1", Event: "order placed", Groups: posthog.NewGroups().Set("company", "acme")}))
	for i := 0; i < 25; i++ { // more than one batch
		must(client.Enqueue(posthog.Capture{DistinctId: "ph-user-1", Event: "batch.event", Properties: posthog.NewProperties().Set("i", i)}))
	}
	must(client.Close()) // flushes

	if n := h.count("SELECT count() FROM user_events FINAL WHERE source = 'posthog' AND distinct_id IN ('anon-ph-1', 'ph-user-1')"); n != 29 {
		t.Fatalf("posthog events stored = %d, want 29", n)
	}
	rows := h.rows("SELECT lib, ip, visitParamExtractString(properties, '$current_url') FROM user_events WHERE event = '$pageview' AND distinct_id = 'anon-ph-1'")
	if len(rows) != 1 || rows[0][0] != "posthog-go" || rows[0][1] != "127.0.0.1" || rows[0][2] != "https://app.example/pricing" {
		t.Fatalf("pageview row = %v", rows)
	}
	// Without trusted proxies X-Forwarded-For is ignored.
	if r := h.do("POST", "/batch/", "", "application/json", `{"api_key":"phc_x","batch":[{"event":"xff.untrusted","distinct_id":"d-x"}]}`,
		"X-Forwarded-For", "203.0.113.7"); r.status != 200 {
		t.Fatalf("xff: %d %s", r.status, r.body)
	}
	if rows := h.rows("SELECT ip FROM user_events WHERE event = 'xff.untrusted'"); len(rows) != 1 || rows[0][0] != "127.0.0.1" {
		t.Fatalf("untrusted client ip = %v", rows)
	}
	if g := h.rows("SELECT groups FROM user_events WHERE event = 'order placed'"); len(g) != 1 || g[0][0] != `{"company":"acme"}` {
		t.Fatalf("groups = %v", g)
	}
	// One contact: identified as ph-user-1, email from $set, the anonymous id merged in.
	cs := find(t, h, "email=ph.user@example.com")
	if len(cs) != 1 || cs[0]["externalId"] != "ph-user-1" || cs[0]["properties"].(map[string]any)["plan"] != "pro" {
		t.Fatalf("contact after identify = %v", cs)
	}
	id := cs[0]["id"]
	if n := h.count("SELECT count(DISTINCT contact_id) FROM user_events WHERE distinct_id = 'ph-user-1'"); n != 1 {
		t.Fatalf("contacts of ph-user-1 events = %d", n)
	}
	// Native traffic for the same userId lands on the same contact.
	if r := upsert(t, h, `{"userId":"ph-user-1","properties":{"native":true}}`); r["id"] != id || r["created"] != false {
		t.Fatalf("native upsert = %v, want contact %v", r, id)
	}
	ev := h.json("POST", "/v1/events", `{"name":"native.after","userId":"ph-user-1"}`)
	if ev.status != 202 || ev.json(t)["contactKey"] != "ph-user-1" {
		t.Fatalf("native event: %d %s", ev.status, ev.body)
	}
}

// TestPostHogCaptureHTTP replays the recorded SDK traffic over HTTP and checks
// the routes posthog-js calls at start-up.
func TestPostHogCaptureHTTP(t *testing.T) {
	cfg, _, _ := serverConfig(t)
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	cfg.TrustedProxies = []*net.IPNet{loopback}
	h := startHarness(t, cfg)
	path := filepath.Join("..", "..", "..", "shared", "fixtures", "posthog", "requests_dump.jsonl")
	raw, err := os.ReadFile(path)
	if err != nil {
		testenv.Unavailable(t, "fixture: %v", err)
	}
	requests := 0
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var d struct {
			Path, Body, IP  string
			ContentType     string `json:"content_type"`
			ContentEncoding string `json:"content_encoding"`
		}
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatal(err)
		}
		body, _ := base64.StdEncoding.DecodeString(d.Body)
		headers := []string{}
		if d.ContentEncoding != "" {
			headers = append(headers, "Content-Encoding", d.ContentEncoding)
		}
		r := h.do("POST", d.Path, "", d.ContentType, string(body), headers...)
		if r.status != 200 || string(r.body) != `{"status":"Ok"}` {
			t.Fatalf("replay %s: %d %s", d.Path, r.status, r.body)
		}
		requests++
	}
	// 88 recorded events; two resent requests repeat 6 uuids, stored once.
	if n := h.count("SELECT count() FROM user_events FINAL WHERE source = 'posthog'"); n != 82 {
		t.Fatalf("stored %d events from %d requests, want 82", n, requests)
	}
	if n := h.count("SELECT uniqExact(id) FROM user_events WHERE source = 'posthog'"); n != 82 {
		t.Fatalf("distinct uuids = %d", n)
	}

	// Encodings and answers SDKs rely on.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"api_key":"phc_x","batch":[{"event":"gz.event","distinct_id":"d-gz","properties":{"$process_person_profile":false}}]}`))
	zw.Close()
	if r := h.do("POST", "/i/v0/e/", "", "text/plain", gz.String()); r.status != 200 {
		t.Fatalf("gzip text/plain: %d %s", r.status, r.body)
	}
	if n := h.count("SELECT count() FROM contacts FINAL WHERE anonymous_id = 'd-gz' OR external_id = 'd-gz'"); n != 0 {
		t.Fatalf("$process_person_profile:false created a contact")
	}
	if r := h.do("POST", "/batch/?beacon=1", "", "application/json", `{"api_key":"phc_x","batch":[{"event":"b","distinct_id":"d"}]}`); r.status != 204 || len(r.body) != 0 {
		t.Fatalf("beacon: %d %q", r.status, r.body)
	}
	for _, c := range []struct {
		path, body string
		status     int
	}{
		{"/e/", `{"api_key":"phx_personal","event":"x","distinct_id":"d"}`, 401},
		{"/e/", `{"event":"x","distinct_id":"d"}`, 401},
		{"/e/", `{"api_key":"phc_x","event":"x"}`, 400},
		{"/e/", `{"api_key":"phc_x","event":"x","distinct_id":"d","uuid":"not-a-uuid"}`, 400},
		{"/capture/", `{"api_key":"phc_x","distinct_id":"d"}`, 400},
		{"/e/", `not json`, 400},
	} {
		r := h.do("POST", c.path, "", "application/json", c.body)
		if r.status != c.status || !strings.Contains(string(r.body), `"detail"`) {
			t.Fatalf("%s %s: %d %s, want %d with a detail", c.path, c.body, r.status, r.body, c.status)
		}
	}
	if r := h.do("POST", "/engage/", "", "application/json", `{"api_key":"phc_x","distinct_id":"eng-1","$set":{"plan":"team"}}`); r.status != 200 {
		t.Fatalf("engage: %d %s", r.status, r.body)
	}
	if rows := h.rows("SELECT event FROM user_events WHERE distinct_id = 'eng-1'"); len(rows) != 1 || rows[0][0] != "$identify" {
		t.Fatalf("engage stored as %v", rows)
	}
	for _, c := range []struct{ method, path, want string }{
		{"POST", "/flags/?v=2", `"featureFlags":{}`},
		{"POST", "/decide/?v=3", `"featureFlags":{}`},
		{"GET", "/array/phc_x/config", `"analytics":{"endpoint":"/i/v0/e/"}`},
		{"GET", "/array/phc_x/config.js", `window._POSTHOG_REMOTE_CONFIG["phc_x"]`},
		{"POST", "/s/", `"quota_limited":["recordings"]`},
		{"GET", "/_readiness", `capture`},
	} {
		r := h.do(c.method, c.path, "", "", "")
		if r.status != 200 || !strings.Contains(string(r.body), c.want) {
			t.Fatalf("%s %s: %d %s", c.method, c.path, r.status, r.body)
		}
	}
	// Behind a trusted proxy the client address is the rightmost
	// X-Forwarded-For hop that is not a trusted proxy; the client-set
	// leftmost entry is not believed.
	if r := h.do("POST", "/i/v0/e/", "", "application/json", `{"api_key":"phc_x","event":"xff","distinct_id":"d-xff"}`,
		"X-Forwarded-For", "198.51.100.1, 203.0.113.7, 127.0.0.2"); r.status != 200 {
		t.Fatalf("xff: %d %s", r.status, r.body)
	}
	if rows := h.rows("SELECT ip FROM user_events WHERE event = 'xff'"); len(rows) != 1 || rows[0][0] != "203.0.113.7" {
		t.Fatalf("client ip = %v", rows)
	}
	r := h.do("OPTIONS", "/i/v0/e/", "", "", "", "Origin", "https://shop.example", "Access-Control-Request-Headers", "content-type")
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "https://shop.example" || r.header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("capture preflight: %d %v", r.status, r.header)
	}
}
