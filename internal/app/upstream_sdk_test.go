package app

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
	"github.com/hogsend/hogsend-proxy/internal/fakeengine"
)

// servedByProxy are the SDK's routes the proxy answers itself in async mode
// (docs/upstream.md § 1.2); every other call passes through to the engine.
var servedByProxy = map[string]bool{
	"PUT /v1/contacts": true, "GET /v1/contacts/find": true, "DELETE /v1/contacts": true, "POST /v1/events": true,
}

// hopByHop are sent with every call and must not reach the engine; X-Hop-Test
// is hop-by-hop because Connection names it.
var hopByHop = []string{"Connection", "X-Hop-Test", "Keep-Alive", "Proxy-Authorization"}

// startEngineAndProxy runs a strict fake engine and the proxy in front of it.
func startEngineAndProxy(t *testing.T, opts fakeengine.Options) (*fakeengine.Server, *harness) {
	t.Helper()
	engine, err := fakeengine.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(engine.Close)
	cfg, _, _ := serverConfig(t)
	cfg.UpstreamURL = engine.URL()
	return engine, startHarness(t, cfg)
}

// TestSDKCallsThroughProxy: every @hogsend/client 0.67.0 call, with the
// SDK's baseUrl on the proxy and keys minted by the engine, gets the answer
// the SDK needs; the calls the proxy passes through reach the engine exactly
// once with the SDK's headers and body intact, hop-by-hop headers dropped
// and X-Forwarded-* set.
func TestSDKCallsThroughProxy(t *testing.T) {
	engine, h := startEngineAndProxy(t, fakeengine.Options{Journeys: []fakeengine.Journey{{ID: "onboarding", Trigger: "user.signed_up"}}})
	keys := fakeengine.ClientKeys{Ingest: engine.MintKey("ingest"), Admin: engine.MintKey("full-admin"), Referrals: engine.MintKey("referrals")}
	vars := map[string]string{"contactId": seedEngineContact(t, engine, keys.Ingest)}
	proxyHost := strings.TrimPrefix(h.base, "http://")
	for _, c := range fakeengine.ClientCalls() {
		before := len(engine.Requests())
		status, contentType, body := sendSDKCall(t, h, c, keys, vars)
		if err := c.Check(status, contentType, body, vars); err != nil {
			for _, r := range engine.Requests()[before:] {
				t.Logf("engine got %s %s ?%s", r.Method, r.Path, r.Query)
			}
			t.Fatal(err)
		}
		if servedByProxy[c.Method+" "+c.Path] {
			assertProxyAnswer(t, c.Name, body)
			continue
		}
		reached := callsTo(engine.Requests()[before:], c.Method, c.FilledPath(vars))
		if len(reached) != 1 {
			t.Fatalf("%s reached the engine %d times, want once", c.Name, len(reached))
		}
		assertPassedIntact(t, c, reached[0], keys, vars, proxyHost)
	}
}

// proxyAnswers are values the proxy's own answers to the SDK's contact and
// event calls must hold, beyond the fields the SDK reads.
var proxyAnswers = map[string][]string{
	"contacts.upsert": {`"created":true`, `"linked":false`},
	"contacts.find":   {`"externalId":"u_sdk"`, `"email":"ada@example.com"`},
	"events.send":     {`"stored":true`, `"contactKey":"u_sdk"`},
	"events.track":    {`"stored":true`, `"contactKey":"u_sdk"`},
	"contacts.delete": {`{"deleted":true}`},
}

func assertProxyAnswer(t *testing.T, name string, body []byte) {
	t.Helper()
	for _, want := range proxyAnswers[name] {
		if !strings.Contains(string(body), want) {
			t.Fatalf("%s: the proxy answered %s, want %s in it", name, body, want)
		}
	}
}

// seedEngineContact makes the contact the group calls name, at the engine:
// in async mode the proxy's own contact ids are not the engine's.
func seedEngineContact(t *testing.T, engine *fakeengine.Server, key string) string {
	t.Helper()
	req, _ := http.NewRequest("PUT", engine.URL()+"/v1/contacts", strings.NewReader(`{"email":"ada@example.com","userId":"u_sdk"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c, found := engine.Contact("u_sdk")
	if !found {
		t.Fatalf("seed contact: %d", resp.StatusCode)
	}
	return c.ID
}

// sendSDKCall sends c to the proxy as the SDK would, plus hop-by-hop
// headers a client or a proxy before us may add.
func sendSDKCall(t *testing.T, h *harness, c fakeengine.ClientCall, keys fakeengine.ClientKeys, vars map[string]string) (int, string, []byte) {
	t.Helper()
	req, err := c.Request(h.base, keys, vars)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "X-Hop-Test")
	req.Header.Set("X-Hop-Test", "1")
	req.Header.Set("Keep-Alive", "timeout=5")
	req.Header.Set("Proxy-Authorization", "Basic cHJveHk6c2VjcmV0")
	resp, err := h.http.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

func callsTo(reqs []fakeads.Request, method, path string) []fakeads.Request {
	var out []fakeads.Request
	for _, r := range reqs {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// assertPassedIntact compares what the engine received with what the SDK sent.
func assertPassedIntact(t *testing.T, c fakeengine.ClientCall, got fakeads.Request, keys fakeengine.ClientKeys, vars map[string]string, proxyHost string) {
	t.Helper()
	want, _ := c.Request("http://engine", keys, vars)
	if got.Query != c.FilledQuery(vars) || string(got.Body) != c.FilledBody(vars) {
		t.Fatalf("%s: engine got ?%s %q, want ?%s %q", c.Name, got.Query, got.Body, c.FilledQuery(vars), c.FilledBody(vars))
	}
	for _, name := range []string{"Accept", "Authorization", "Content-Type", "Idempotency-Key"} {
		if g, w := got.Header.Values(name), want.Header.Values(name); strings.Join(g, ",") != strings.Join(w, ",") {
			t.Fatalf("%s: engine got %s %q, the SDK sent %q", c.Name, name, g, w)
		}
	}
	for _, name := range hopByHop {
		if v := got.Header.Get(name); v != "" && !(name == "Connection" && strings.EqualFold(v, "keep-alive")) {
			t.Fatalf("%s: hop-by-hop %s: %q reached the engine", c.Name, name, v)
		}
	}
	if got.Header.Get("X-Forwarded-For") != "127.0.0.1" || got.Header.Get("X-Forwarded-Proto") != "http" || got.Header.Get("X-Forwarded-Host") != proxyHost {
		t.Fatalf("%s: X-Forwarded-For %q, -Proto %q, -Host %q (proxy %s)", c.Name, got.Header.Get("X-Forwarded-For"),
			got.Header.Get("X-Forwarded-Proto"), got.Header.Get("X-Forwarded-Host"), proxyHost)
	}
}

// TestPassThroughKeepsEncodedSlash: the SDK encodes path segments with
// encodeURIComponent, so a group key with a / travels as %2F and must reach
// the engine so, in its one segment (docs/upstream.md § 1.1: the path
// unchanged).
func TestPassThroughKeepsEncodedSlash(t *testing.T) {
	engine, h := startEngineAndProxy(t, fakeengine.Options{})
	key := engine.MintKey("ingest")
	if r := h.do("POST", "/v1/groups", key, "application/json", `{"groupType":"company","groupKey":"acme/eu"}`); r.status != 200 {
		t.Fatalf("identify: %d %s", r.status, r.body)
	}
	r := h.do("GET", "/v1/groups/company/acme%2Feu", key, "", "")
	got := callsTo(engine.Requests(), "GET", "/v1/groups/company/acme%2Feu")
	if r.status != 200 || len(got) != 1 {
		var paths []string
		for _, req := range engine.Requests() {
			paths = append(paths, req.Method+" "+req.Path)
		}
		t.Fatalf("groups.get of acme/eu: %d %s; the engine got %q", r.status, r.body, paths)
	}
}

// TestEngineKeyAtProxy: a key minted by the engine works on the proxy's
// own POST /v1/events, its admission is cached (the engine is asked once),
// a key revoked before the proxy saw it is refused with the engine's body,
// and a revoked cached key is refused once the 60 s bound passes on the
// proxy's clock (docs/upstream.md § 2).
func TestEngineKeyAtProxy(t *testing.T) {
	engine, h := startEngineAndProxy(t, fakeengine.Options{})
	key := engine.MintKey("ingest")
	event := func(k string) response {
		t.Helper()
		return h.do("POST", "/v1/events", k, "application/json", `{"name":"order.paid","userId":"u_key"}`)
	}
	if r := event(key); r.status != 202 || !strings.Contains(string(r.body), `"stored":true`) {
		t.Fatalf("engine key at the proxy: %d %s", r.status, r.body)
	}
	checks := func() int { return len(callsTo(engine.Requests(), "GET", "/v1/contacts/me")) }
	if n := checks(); n != 1 {
		t.Fatalf("%d key checks at the engine, want 1", n)
	}
	engine.Revoke(key)
	if r := event(key); r.status != 202 || checks() != 1 {
		t.Fatalf("within the cache: %d %s, %d checks; want the cached admission", r.status, r.body, checks())
	}

	revoked := engine.MintKey("ingest")
	engine.Revoke(revoked)
	if r := event(revoked); r.status != 401 || string(r.body) != `{"error":"Unauthorized"}` {
		t.Fatalf("key revoked before first use: %d %s, want the engine's 401", r.status, r.body)
	}
	readOnly := engine.MintKey("read")
	if r := event(readOnly); r.status != 403 || string(r.body) != `{"error":"Forbidden: insufficient scope"}` {
		t.Fatalf("engine key without ingest: %d %s", r.status, r.body)
	}
	if r := event(h.key); r.status != 202 {
		t.Fatalf("the proxy's own key: %d %s", r.status, r.body)
	}

	h.app.Server.SetClock(func() time.Time { return time.Now().Add(61 * time.Second) })
	if r := event(key); r.status != 401 || string(r.body) != `{"error":"Unauthorized"}` {
		t.Fatalf("61 s after the revocation: %d %s, want the engine's 401", r.status, r.body)
	}
}

// TestEngineAnswersRelayed: the engine's refusals and faults on a passed-
// through route come back as it sent them, 429 with Retry-After included.
func TestEngineAnswersRelayed(t *testing.T) {
	engine, h := startEngineAndProxy(t, fakeengine.Options{EmailsPerMinute: 1})
	key := engine.MintKey("ingest")
	mail := func() response {
		return h.do("POST", "/v1/emails", key, "application/json", `{"to":"a@b.co","template":"welcome"}`)
	}
	if r := mail(); r.status != 202 {
		t.Fatalf("first email: %d %s", r.status, r.body)
	}
	r := mail()
	if r.status != 429 || string(r.body) != `{"error":"Rate limit exceeded"}` || r.header.Get("Retry-After") == "" || r.header.Get("X-RateLimit-Limit") != "1" {
		t.Fatalf("rate limited: %d %s %v", r.status, r.body, r.header)
	}
	engine.Script.Push(fakeads.Fault{Status: 503, Body: `{"error":"engine busy"}`, Header: map[string]string{"Retry-After": "7"}})
	if r := h.do("GET", "/v1/lists", key, "", ""); r.status != 503 || string(r.body) != `{"error":"engine busy"}` || r.header.Get("Retry-After") != "7" {
		t.Fatalf("engine 503: %d %s %v", r.status, r.body, r.header)
	}
	q := url.Values{"email": {"nobody@b.co"}}
	if r := h.do("GET", "/v1/campaigns/none?"+q.Encode(), key, "", ""); r.status != 404 || string(r.body) != `{"error":"Unknown campaign: none"}` {
		t.Fatalf("engine 404: %d %s", r.status, r.body)
	}
}
