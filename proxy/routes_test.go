package proxy

import (
	"strings"
	"testing"
)

// routeCase is one request and what its answer must be: status, a body
// fragment, and headers (a value of "" means the header must be absent).
type routeCase struct {
	name, method, path, body string
	headers                  []string
	status                   int
	bodyHas                  string
	want                     map[string]string
}

// TestRoutes: every route's status, body shape and CORS, native routes in
// {"error"} with the data API's CORS, capture routes in capture's shape
// with capture's CORS, PostHog's other paths with their local answers.
func TestRoutes(t *testing.T) {
	ts := newTestServer(t, Options{}, nil, nil)
	const origin = "Origin: https://app.example"
	batch := `{"api_key":"phc_routes","batch":[{"event":"e","properties":{"distinct_id":"r1"}}]}`
	for _, c := range []routeCase{
		{name: "healthz", method: "GET", path: "/healthz", status: 200},
		{name: "readyz", method: "GET", path: "/readyz", status: 200, bodyHas: `"status":"ready"`},
		{name: "unknown path", method: "GET", path: "/nope", status: 404, bodyHas: `{"error":"Not Found"}`},
		{name: "native route, wrong method", method: "GET", path: "/v1/events", status: 404, bodyHas: `"error"`},
		{name: "native without a key", method: "POST", path: "/v1/events", body: `{"name":"e","userId":"u"}`, headers: []string{origin},
			status: 401, bodyHas: `{"error":"Unauthorized"}`, want: map[string]string{"Access-Control-Allow-Origin": "https://app.example", "Vary": "Origin"}},
		{name: "native without an origin", method: "PUT", path: "/v1/contacts", body: `{}`,
			status: 401, want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": ""}},
		{name: "native preflight", method: "OPTIONS", path: "/v1/contacts", headers: []string{origin, "Access-Control-Request-Headers: authorization,content-type"},
			status: 204, want: map[string]string{"Access-Control-Allow-Methods": "GET,HEAD,PUT,POST,DELETE,PATCH",
				"Access-Control-Allow-Headers": "authorization,content-type", "Access-Control-Max-Age": "86400"}},
		{name: "capture", method: "POST", path: "/batch/", body: batch, headers: []string{origin},
			status: 200, bodyHas: `{"status":"Ok"}`, want: map[string]string{"Access-Control-Allow-Origin": "https://app.example",
				"Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Methods": "GET, POST, OPTIONS"}},
		{name: "capture without the slash", method: "POST", path: "/e", body: `{"api_key":"phc_routes","event":"e","distinct_id":"r2"}`, status: 200, bodyHas: `"Ok"`},
		{name: "capture beacon", method: "POST", path: "/i/v0/e/?beacon=1", body: batch, status: 204},
		{name: "capture preflight", method: "OPTIONS", path: "/i/v0/e/", headers: []string{origin, "Access-Control-Request-Headers: content-type"},
			status: 200, want: map[string]string{"Access-Control-Allow-Headers": "content-type", "Access-Control-Allow-Origin": "https://app.example"}},
		{name: "capture, broken JSON", method: "POST", path: "/batch/", body: `{"batch":[`,
			status: 400, bodyHas: `{"type":"validation_error","code":`, want: map[string]string{"Access-Control-Allow-Origin": "*"}},
		{name: "capture, no token", method: "POST", path: "/batch/", body: `{"batch":[{"event":"e","properties":{"distinct_id":"r3"}}]}`,
			status: 401, bodyHas: `"type":"authentication_error"`},
		{name: "recordings", method: "POST", path: "/s/", body: `x`, status: 200, bodyHas: `"quota_limited":["recordings"]`},
		{name: "flags", method: "POST", path: "/flags/?v=2", body: `{}`, status: 200, bodyHas: `"featureFlags":{}`},
		{name: "decide", method: "POST", path: "/decide/?v=3", body: `{}`, status: 200, bodyHas: `"sessionRecording":false`},
		{name: "remote config", method: "GET", path: "/array/phc_routes/config", status: 200, bodyHas: `"token":"phc_routes"`},
		{name: "remote config without a token", method: "GET", path: "/array/config", status: 404},
		{name: "capture liveness", method: "GET", path: "/_liveness", status: 200, bodyHas: "capture"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := ts.do(c.method, c.path, c.body, c.headers...)
			if r.status != c.status || !strings.Contains(r.body, c.bodyHas) {
				t.Fatalf("%s %s: %d %s; want %d with %q", c.method, c.path, r.status, r.body, c.status, c.bodyHas)
			}
			for h, v := range c.want {
				if got, ok := r.header[h]; (v == "" && ok) || got != v {
					t.Errorf("%s: %q (present %v), want %q", h, got, ok, v)
				}
			}
		})
	}
}
