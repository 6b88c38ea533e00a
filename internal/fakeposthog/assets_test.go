package fakeposthog

import (
	"net/http"
	"strings"
	"testing"
)

func TestRemoteConfig(t *testing.T) {
	s := start(t, Options{})
	got := send(t, s, wire{method: http.MethodGet, path: "/array/" + token + "/config"})
	if got.status != 200 || got.header.Get("Content-Type") != "application/json" {
		t.Fatalf("config answer %d %s", got.status, got.header.Get("Content-Type"))
	}
	golden(t, "config.json", got.body)
	s.SetFlag("beta", true)
	got = send(t, s, wire{method: http.MethodGet, path: "/array/" + token + "/config.js"})
	if got.status != 200 || got.header.Get("Content-Type") != "application/javascript" {
		t.Fatalf("config.js answer %d %s", got.status, got.header.Get("Content-Type"))
	}
	golden(t, "config.js", got.body)
}

func TestRemoteConfigWithRecording(t *testing.T) {
	s := start(t, Options{SessionRecording: true})
	got := send(t, s, wire{method: http.MethodGet, path: "/array/" + token + "/config/"})
	if got.status != 200 || !strings.Contains(got.body, `"sessionRecording":{"consoleLogRecordingEnabled":false,"endpoint":"/s/"`) {
		t.Fatalf("config answer %d %s", got.status, got.body)
	}
}

func TestOtherRoutes(t *testing.T) {
	f := func(name string, w wire, wantStatus int, wantType, wantBody string) {
		t.Run(name, func(t *testing.T) {
			s := start(t, Options{})
			got := send(t, s, w)
			if got.status != wantStatus || !strings.HasPrefix(got.header.Get("Content-Type"), wantType) || !strings.Contains(got.body, wantBody) {
				t.Fatalf("answer %d %s %q, want %d %s containing %q", got.status, got.header.Get("Content-Type"), got.body, wantStatus, wantType, wantBody)
			}
		})
	}
	get := func(path string) wire { return wire{method: http.MethodGet, path: path} }
	js := "application/javascript"
	f("config of another token", get("/array/phc_other/config"), 404, "text/plain", "not found")
	f("config unknown file", get("/array/"+token+"/other"), 404, "text/plain", "not found")
	f("config by post", wire{path: "/array/" + token + "/config"}, 405, "text/plain", "method not allowed")
	f("array.js", get("/static/array.js"), 200, js, "fake posthog array.js")
	f("recorder.js", get("/static/recorder.js?v=1.449.2"), 200, js, "fake posthog recorder.js")
	f("versioned surveys.js", get("/static/1.449.2/surveys.js"), 200, js, "fake posthog surveys.js")
	f("unknown script", get("/static/nothing.js"), 404, "text/plain", "not found")
	f("surveys", get("/api/surveys/?token="+token), 200, "application/json", `{"surveys":[]}`)
	f("early access features", get("/api/early_access_features/?token="+token+"&stage=beta"), 200, "application/json", `{"earlyAccessFeatures":[]}`)
	f("web experiments", get("/api/web_experiments?token="+token), 200, "application/json", `{"experiments":[]}`)
	f("surveys of another token", get("/api/surveys/?token=phc_other"), 401, "application/json", "authentication_error")
	f("surveys without a token", get("/api/surveys/"), 401, "application/json", "invalid_api_key")
	f("readiness", get("/_readiness"), 200, "text/plain", "capture")
	f("root", get("/"), 200, "text/plain", "capture")
	f("unknown path", get("/nowhere"), 404, "text/plain", "not found")
	f("capture by put", wire{method: http.MethodPut, path: "/batch/"}, 405, "text/plain", "method not allowed")
}

func TestRecordingsCountSnapshots(t *testing.T) {
	s := start(t, Options{})
	snapshot := func(n int) map[string]any {
		return map[string]any{"event": "$snapshot", "uuid": uuidN(n), "offset": 10,
			"properties": map[string]any{"distinct_id": "anon-1", "token": token, "$session_id": "s1", "$window_id": "w1",
				"$snapshot_data": []any{map[string]any{"type": 2, "data": map[string]any{}}}}}
	}
	body := jsonOf(t, map[string]any{"api_key": token, "batch": []any{snapshot(1), snapshot(2)}})
	if got := send(t, s, wire{path: "/s/?ver=1.449.2", body: gz(t, body), header: map[string]string{"Content-Type": "text/plain"}}); got.status != 200 || got.body != `{"status":"Ok"}` {
		t.Fatalf("gzip recording answered %d %q", got.status, got.body)
	}
	if got := send(t, s, wire{path: "/s", body: jsonOf(t, []any{snapshot(3)})}); got.status != 200 {
		t.Fatalf("json recording answered %d %q", got.status, got.body)
	}
	if got := send(t, s, wire{path: "/s/", body: nodeBatch(t, 4, 5)}); got.status != 400 || !strings.Contains(got.body, "not a recording snapshot") {
		t.Fatalf("a plain event on /s/ answered %d %q", got.status, got.body)
	}
	if got := send(t, s, wire{path: "/s/", body: jsonOf(t, map[string]any{"api_key": "phc_other", "batch": []any{snapshot(5)}})}); got.status != 401 {
		t.Fatalf("a recording with another token answered %d", got.status)
	}
	if s.Snapshots() != 3 || s.Count() != 0 {
		t.Fatalf("snapshots %d events %d, want 3 0: recordings are not events", s.Snapshots(), s.Count())
	}
}

func TestCORS(t *testing.T) {
	s := start(t, Options{})
	got := send(t, s, wire{method: http.MethodOptions, path: "/flags/?v=2", header: map[string]string{
		"Origin": "https://shop.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-custom"}})
	h := got.header
	if got.status != 200 || got.body != `{"status":"Ok"}` || h.Get("Access-Control-Allow-Origin") != "https://shop.example" ||
		h.Get("Access-Control-Allow-Credentials") != "true" || h.Get("Access-Control-Allow-Headers") != "content-type,x-custom" ||
		h.Get("Access-Control-Allow-Methods") != "GET, POST, OPTIONS" {
		t.Fatalf("preflight %d %q %v", got.status, got.body, h)
	}
	got = send(t, s, wire{path: "/batch/", body: nodeBatch(t, 1, 2), header: map[string]string{"Origin": "https://shop.example"}})
	if got.header.Get("Access-Control-Allow-Origin") != "https://shop.example" || got.header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("capture CORS headers %v", got.header)
	}
}
