package app

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/posthog/posthog-go"

	"github.com/hogsend/hogsend-proxy/internal/fakeposthog"
)

const projectToken = "phc_app_test_project"

// startPostHogAndProxy runs a strict fake PostHog project and the proxy in
// front of it.
func startPostHogAndProxy(t *testing.T) (*fakeposthog.Server, *harness) {
	t.Helper()
	ph, err := fakeposthog.New(fakeposthog.Options{Token: projectToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ph.Close)
	cfg, _, _ := serverConfig(t)
	cfg.PostHogUpstreamURL, cfg.PostHogAssetsURL, cfg.PostHogTokens = ph.URL(), ph.URL(), []string{projectToken}
	cfg.PostHogTimeout = 2 * time.Second
	return ph, startHarness(t, cfg)
}

// TestPostHogGoThroughTheProxy (issue 13): posthog-go pointed at the proxy
// sees the project's flags, and its events reach the project once each with
// their uuids, after they are stored here.
func TestPostHogGoThroughTheProxy(t *testing.T) {
	ph, h := startPostHogAndProxy(t)
	ph.SetFlag("new-checkout", true)
	ph.SetFlagFor("ph-go-1", "pricing", "annual")
	client, err := posthog.NewWithConfig(projectToken, posthog.Config{Endpoint: h.base, Interval: 50 * time.Millisecond, BatchSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	on, err := client.IsFeatureEnabled(posthog.FeatureFlagPayload{Key: "new-checkout", DistinctId: "ph-go-1"})
	if err != nil || on != true {
		t.Fatalf("IsFeatureEnabled through the proxy = %v, %v", on, err)
	}
	variant, err := client.GetFeatureFlag(posthog.FeatureFlagPayload{Key: "pricing", DistinctId: "ph-go-1"})
	if err != nil || variant != "annual" {
		t.Fatalf("GetFeatureFlag through the proxy = %v, %v", variant, err)
	}
	var ids []string
	for i := range 25 {
		id := uuid.Must(uuid.NewV7()).String()
		ids = append(ids, id)
		if err := client.Enqueue(posthog.Capture{Uuid: id, DistinctId: "ph-go-1", Event: "go.event", Properties: posthog.NewProperties().Set("i", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range ids {
		for !ph.Seen(id) {
			if time.Now().After(deadline) {
				t.Fatalf("event %s never reached the project (it has %d)", id, ph.Count())
			}
			time.Sleep(10 * time.Millisecond)
		}
		ev, _ := ph.Event(id)
		if ev.DistinctID != "ph-go-1" || ev.Event != "go.event" || ev.IP != "127.0.0.1" || ev.Properties["$lib"] != "posthog-go" {
			t.Fatalf("event at the project: %+v", ev)
		}
	}
	if n := h.count("SELECT count() FROM user_events WHERE event = 'go.event'"); n != 25 {
		t.Fatalf("events stored here = %d, want 25", n)
	}
	if ph.Duplicates() != 0 {
		t.Fatalf("%d events sent twice", ph.Duplicates())
	}
}

// TestPostHogRoutesPassThrough (issue 13): what PostHog serves besides
// capture reaches the project (recordings, surveys, scripts, remote
// config) without the visitor's cookies; with the project down, flags,
// remote config and recordings fall back to the proxy's own answers and
// the rest answer 503.
func TestPostHogRoutesPassThrough(t *testing.T) {
	ph, h := startPostHogAndProxy(t)
	snapshot := `{"api_key":"` + projectToken + `","batch":[{"uuid":"` + uuid.Must(uuid.NewV7()).String() + `","event":"$snapshot","distinct_id":"d1","timestamp":"2026-12-06T10:00:00Z","properties":{"$snapshot_data":[{"type":2}],"$session_id":"s1","$window_id":"w1"}}]}`
	cases := []struct {
		method, path, ctype, body string
		want                      string
	}{
		{"POST", "/s/?ver=1.449.2", "application/json", snapshot, `"status"`},
		{"GET", "/api/surveys/?token=" + projectToken, "", "", `"surveys"`},
		{"GET", "/static/recorder.js", "", "", ""},
		{"GET", "/array/" + projectToken + "/config", "", "", `"token"`},
	}
	for _, c := range cases {
		r := h.do(c.method, c.path, "", c.ctype, c.body, "Cookie", "session=site-secret", "Origin", "https://app.example")
		if r.status != 200 || !strings.Contains(string(r.body), c.want) {
			t.Fatalf("%s %s through the proxy: %d %s", c.method, c.path, r.status, r.body)
		}
	}
	if ph.Snapshots() != 1 {
		t.Fatalf("snapshots at the project: %d", ph.Snapshots())
	}
	for _, r := range ph.Requests() {
		if r.Header.Get("Cookie") != "" || r.Header.Get("X-Forwarded-For") != "127.0.0.1" {
			t.Fatalf("%s %s reached the project with Cookie %q, X-Forwarded-For %q", r.Method, r.Path, r.Header.Get("Cookie"), r.Header.Get("X-Forwarded-For"))
		}
	}

	ph.Stop()
	for _, c := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/flags/?v=2", `{"token":"` + projectToken + `","distinct_id":"d1"}`, 200, `"featureFlags":{}`},
		{"POST", "/decide/?v=3", `{"token":"` + projectToken + `","distinct_id":"d1"}`, 200, `"featureFlags":{}`},
		{"POST", "/s/", snapshot, 200, `"quota_limited":["recordings"]`},
		{"GET", "/array/" + projectToken + "/config", "", 200, `"token":"` + projectToken + `"`},
		{"GET", "/static/recorder.js", "", 503, "posthog unavailable"},
		{"POST", "/batch/", `{"api_key":"` + projectToken + `","batch":[{"event":"while.down","distinct_id":"d1"}]}`, 200, `"status":"Ok"`},
	} {
		r := h.do(c.method, c.path, "", "application/json", c.body)
		if r.status != c.status || !strings.Contains(string(r.body), c.want) {
			t.Fatalf("%s %s with the project down: %d %s, want %d with %s", c.method, c.path, r.status, r.body, c.status, c.want)
		}
	}
	if metricValue(t, h, `hogsend_posthog_passthrough_total{route="flags",answer="fallback"}`) != 1 {
		t.Fatalf("the flags fall-back was not counted")
	}
}
