package app

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeposthog"
	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// The real JavaScript clients, posthog-node and posthog-js (in a jsdom
// page), pointed at the proxy in front of a fake PostHog project
// (docs/posthog-upstream.md § 1.1, § 2.1): their events reach PostHog once
// each with their uuids, and their flags are PostHog's, or the proxy's
// fall-back while PostHog is down. The scripts are in testdata/posthog-js; the npm packages
// are what scripts/install-test-deps.sh puts in .deps/node.

// jsModules is where scripts/install-test-deps.sh installs the npm clients,
// from this package's folder.
const jsModules = "../../.deps/node/node_modules"

// jsMirrorWait bounds the wait for the mirror to deliver, retries after an
// outage included.
const jsMirrorWait = 90 * time.Second

// jsEvent is an event a script's client sent, with the uuid it gave it.
type jsEvent struct {
	Type       string `json:"type"`
	UUID       string `json:"uuid"`
	Event      string `json:"event"`
	DistinctID string `json:"distinctId"`
}

// jsRequest is a request a jsdom page made, with the answer's status.
type jsRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	Status int    `json:"status"`
}

// jsFlag is a flag posthog-node answered.
type jsFlag struct {
	Key        string          `json:"key"`
	DistinctID string          `json:"distinctId"`
	Call       string          `json:"call"`
	Value      json.RawMessage `json:"value"`
}

// jsRun is what a script printed.
type jsRun struct {
	Sent     []jsEvent       `json:"sent"`
	Flags    json.RawMessage `json:"flags"`
	Errors   []string        `json:"errors"`
	Requests []jsRequest     `json:"requests"`
	Logs     []string        `json:"logs"`
	Config   map[string]any  `json:"remoteConfig"`
}

// nodePath finds node and the npm clients: a skip without them, a failure
// in CI.
func nodePath(t *testing.T) (node, modules string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Unavailable(t, "node not found")
	}
	modules, err = filepath.Abs(jsModules)
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"posthog-node", "posthog-js", "jsdom"} {
		if _, err := os.Stat(filepath.Join(modules, pkg, "package.json")); err != nil {
			testenv.Unavailable(t, "npm package %s not in %s", pkg, modules)
		}
	}
	return node, modules
}

// runScript runs testdata/posthog-js/<script> with plan as its argument and
// reads the JSON line it prints.
func runScript(t *testing.T, script string, plan any) jsRun {
	t.Helper()
	node, modules := nodePath(t)
	arg, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "posthog-js", script), string(arg))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\nstdout: %s\nstderr: %s", script, err, stdout.Bytes(), stderr.Bytes())
	}
	var run jsRun
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &run); err != nil {
		t.Fatalf("node %s printed %q: %v\nstderr: %s", script, stdout.Bytes(), err, stderr.Bytes())
	}
	return run
}

// startJSClientsProxy is startPostHogAndProxy once node and the npm
// clients are there, so a machine without them skips before any server starts.
func startJSClientsProxy(t *testing.T) (*fakeposthog.Server, *harness) {
	t.Helper()
	nodePath(t)
	return startPostHogAndProxy(t)
}

// waitMirrored waits until the fake has every event sent, then checks each
// arrived once with its name and distinct id, and nothing else arrived.
func waitMirrored(t *testing.T, fake *fakeposthog.Server, sent []jsEvent) {
	t.Helper()
	deadline := time.Now().Add(jsMirrorWait)
	for missing := unseen(fake, sent); len(missing) > 0; missing = unseen(fake, sent) {
		if time.Now().After(deadline) {
			t.Fatalf("after %s the fake lacks %d of %d events: %v", jsMirrorWait, len(missing), len(sent), missing)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, s := range sent {
		e, ok := fake.Event(s.UUID)
		if !ok || e.Event != s.Event || e.DistinctID != s.DistinctID || e.Token != projectToken || e.IP != "127.0.0.1" {
			t.Fatalf("sent %+v; the fake has %+v (found %v)", s, e, ok)
		}
	}
	if fake.Count() != len(sent) || fake.Duplicates() != 0 {
		t.Fatalf("the fake counts %d events and %d duplicates; want the %d sent, once each", fake.Count(), fake.Duplicates(), len(sent))
	}
}

// unseen lists the sent events the fake has not accepted.
func unseen(fake *fakeposthog.Server, sent []jsEvent) []jsEvent {
	var out []jsEvent
	for _, s := range sent {
		if !fake.Seen(s.UUID) {
			out = append(out, s)
		}
	}
	return out
}

// flagValues maps posthog-node's flag answers to "key@distinctId" → value.
func flagValues(t *testing.T, run jsRun) map[string]string {
	t.Helper()
	var flags []jsFlag
	if err := json.Unmarshal(run.Flags, &flags); err != nil {
		t.Fatalf("flags %s: %v", run.Flags, err)
	}
	out := map[string]string{}
	for _, f := range flags {
		out[f.Key+"@"+f.DistinctID] = string(f.Value)
	}
	return out
}

// TestPostHogNodeThroughProxy: posthog-node's captures and identify reach
// PostHog once each with the uuids it gave, and its flag calls read the
// flags set on PostHog, for everyone and for one person.
func TestPostHogNodeThroughProxy(t *testing.T) {
	fake, h := startJSClientsProxy(t)
	fake.SetFlag("beta", true)
	fake.SetFlagFor("user-2", "pricing", "annual")
	const given = "01932b6e-7a3c-7c4e-9f1a-2d5e8b0c4a11"
	run := runScript(t, "node-client.cjs", map[string]any{
		"host": h.base, "token": projectToken,
		"captures": []map[string]any{
			{"distinctId": "user-1", "event": "signed up", "properties": map[string]any{"plan": "free"}},
			{"distinctId": "user-2", "event": "ordered", "properties": map[string]any{"total": 42}, "uuid": given},
			{"distinctId": "user-2", "event": "paid"},
		},
		"identify": map[string]any{"distinctId": "user-2", "properties": map[string]any{"email": "two@example.com"}},
		"flags": []map[string]any{
			{"key": "beta", "distinctId": "user-1", "call": "isFeatureEnabled"},
			{"key": "pricing", "distinctId": "user-2", "call": "getFeatureFlag"},
			{"key": "pricing", "distinctId": "user-1", "call": "getFeatureFlag"},
		},
	})
	if len(run.Errors) != 0 {
		t.Fatalf("posthog-node errors: %v", run.Errors)
	}
	want := map[string]string{"beta@user-1": "true", "pricing@user-2": `"annual"`, "pricing@user-1": "false"}
	if got := flagValues(t, run); !maps.Equal(got, want) {
		t.Fatalf("flags %v, want %v", got, want)
	}
	// 3 captures, the identify and a $feature_flag_called per flag call.
	if len(run.Sent) != 7 || run.Sent[1].UUID != given || run.Sent[3].Event != "$identify" {
		t.Fatalf("posthog-node sent %+v", run.Sent)
	}
	waitMirrored(t, fake, run.Sent)
	if e, _ := fake.Event(given); e.Properties["total"] != float64(42) {
		t.Fatalf("event %s properties %v", given, e.Properties)
	}
	asked := fake.FlagRequests()
	if len(asked) != 3 || asked[0].DistinctID != "user-1" || asked[1].DistinctID != "user-2" || asked[0].Version != "2" {
		t.Fatalf("flag requests at the fake: %+v", asked)
	}
}

// TestPostHogJSThroughProxy: posthog-js in a page loads its remote config
// and flags from PostHog through the proxy, and its events reach PostHog
// once each with their uuids.
func TestPostHogJSThroughProxy(t *testing.T) {
	fake, h := startJSClientsProxy(t)
	fake.SetFlag("beta", true)
	fake.SetFlag("retired", false)
	fake.SetFlagFor("visitor-7", "pricing", "annual")
	run := runScript(t, "browser-client.cjs", map[string]any{
		"host": h.base, "token": projectToken, "distinctId": "visitor-7",
		"captures": []map[string]any{{"event": "viewed product", "properties": map[string]any{"sku": "A-1"}}, {"event": "added to cart"}},
		"flags":    []string{"beta", "pricing", "retired", "unknown"},
	})
	var flags map[string]any
	if err := json.Unmarshal(run.Flags, &flags); err != nil {
		t.Fatalf("flags %s: %v", run.Flags, err)
	}
	if flags["beta"] != true || flags["pricing"] != true || flags["retired"] != false || flags["unknown"] != nil {
		t.Fatalf("posthog-js flags %v (page logs %v)", flags, run.Logs)
	}
	if run.Config["token"] != projectToken || run.Config["hasFeatureFlags"] != true {
		t.Fatalf("posthog-js remote config %v, want the fake's with flags", run.Config)
	}
	assertPageRequests(t, h, run.Requests)
	assertFetchedFromFake(t, fake, "GET", "/array/"+projectToken+"/config.js")
	asked := fake.FlagRequests()
	if len(asked) != 1 || asked[0].DistinctID != "visitor-7" || asked[0].Version != "2" || asked[0].Token != projectToken {
		t.Fatalf("flag requests at the fake: %+v", asked)
	}
	if len(run.Sent) != 2 {
		t.Fatalf("posthog-js sent %+v", run.Sent)
	}
	waitMirrored(t, fake, run.Sent)
}

// assertPageRequests checks the page called /flags/?v=2 and captured on the
// proxy, and every call was answered 200.
func assertPageRequests(t *testing.T, h *harness, reqs []jsRequest) {
	t.Helper()
	assertProxyAnswered(t, h, reqs)
	var flags, captures int
	for _, r := range reqs {
		switch {
		case r.Method == "POST" && strings.HasPrefix(r.URL, h.base+"/flags/?v=2"):
			flags++
		case r.Method == "POST" && strings.HasPrefix(r.URL, h.base+"/i/v0/e/"):
			captures++
		}
	}
	if flags != 1 || captures == 0 {
		t.Fatalf("page requests %+v: want one /flags/?v=2 call and captures", reqs)
	}
}

// assertProxyAnswered checks every request of the page went to the proxy
// and was answered 200.
func assertProxyAnswered(t *testing.T, h *harness, reqs []jsRequest) {
	t.Helper()
	for _, r := range reqs {
		if !strings.HasPrefix(r.URL, h.base+"/") || r.Status != 200 {
			t.Fatalf("page request %+v, want a 200 from the proxy %s", r, h.base)
		}
	}
}

// assertFetchedFromFake checks the fake answered method path with 200.
func assertFetchedFromFake(t *testing.T, fake *fakeposthog.Server, method, path string) {
	t.Helper()
	for _, r := range fake.Requests() {
		if r.Method == method && r.Path == path && r.Status == 200 {
			return
		}
	}
	t.Fatalf("the fake never answered %s %s with 200", method, path)
}

// TestPostHogNodeWhilePostHogDown: with PostHog unreachable, posthog-node
// gets the proxy's fall-back flags and its captures are accepted; they
// reach PostHog once each when it is back. The fall-back answers no flags,
// for which posthog-node's isFeatureEnabled gives undefined (falsy, no
// error) and reports flag_missing, where a failed request reports
// unknown_error.
func TestPostHogNodeWhilePostHogDown(t *testing.T) {
	fake, h := startJSClientsProxy(t)
	fake.SetFlag("beta", true)
	fake.Stop()
	run := runScript(t, "node-client.cjs", map[string]any{
		"host": h.base, "token": projectToken,
		"captures": []map[string]any{
			{"distinctId": "user-3", "event": "signed up"},
			{"distinctId": "user-3", "event": "ordered", "properties": map[string]any{"total": 7}},
		},
		"flags": []map[string]any{{"key": "beta", "distinctId": "user-3", "call": "isFeatureEnabled"}},
	})
	if len(run.Errors) != 0 {
		t.Fatalf("posthog-node errors while PostHog is down: %v", run.Errors)
	}
	if got := flagValues(t, run); got["beta@user-3"] != `{"undefined":true}` {
		t.Fatalf("flags while PostHog is down %v, want beta undefined from the proxy's empty fall-back", got)
	}
	if len(run.Sent) != 3 || run.Sent[2].Event != "$feature_flag_called" {
		t.Fatalf("posthog-node sent %+v, want 2 captures and a $feature_flag_called", run.Sent)
	}
	m := h.do("GET", "/metrics", "", "", "")
	if !strings.Contains(string(m.body), `hogsend_posthog_passthrough_total{route="flags",answer="fallback"} 1`) {
		t.Fatalf("/metrics has no flags fall-back:\n%s", m.body)
	}
	if fake.Count() != 0 || len(fake.FlagRequests()) != 0 {
		t.Fatalf("the stopped fake counts %d events, %d flag requests", fake.Count(), len(fake.FlagRequests()))
	}
	if err := fake.Restart(); err != nil {
		t.Fatal(err)
	}
	waitMirrored(t, fake, run.Sent)
	called, _ := fake.Event(run.Sent[2].UUID)
	if called.Properties["$feature_flag"] != "beta" || called.Properties["$feature_flag_error"] != "flag_missing" {
		t.Fatalf("$feature_flag_called properties %v, want beta answered missing by the fall-back", called.Properties)
	}
}

// TestPostHogJSWhilePostHogDown: with PostHog unreachable, posthog-js in a
// page starts on the proxy's own remote config, still asks /flags (so a
// page waiting on onFeatureFlags goes on), gets none of PostHog's flags,
// and its events are accepted and reach PostHog once each when it is back.
func TestPostHogJSWhilePostHogDown(t *testing.T) {
	fake, h := startJSClientsProxy(t)
	fake.SetFlag("beta", true)
	fake.Stop()
	run := runScript(t, "browser-client.cjs", map[string]any{
		"host": h.base, "token": projectToken, "distinctId": "visitor-8", "waitForFlags": true,
		"captures": []map[string]any{{"event": "viewed product"}, {"event": "added to cart"}},
		"flags":    []string{"beta"},
	})
	if run.Config["token"] != projectToken {
		t.Fatalf("posthog-js remote config %v, want the proxy's for %s", run.Config, projectToken)
	}
	var flags map[string]any
	if err := json.Unmarshal(run.Flags, &flags); err != nil || flags["beta"] == true {
		t.Fatalf("posthog-js flags %s (%v), want beta unknown while PostHog is down", run.Flags, err)
	}
	assertProxyAnswered(t, h, run.Requests)
	m := h.do("GET", "/metrics", "", "", "")
	for _, route := range []string{"remote config", "flags"} {
		if !strings.Contains(string(m.body), `hogsend_posthog_passthrough_total{route="`+route+`",answer="fallback"} 1`) {
			t.Fatalf("/metrics has no %s fall-back:\n%s", route, m.body)
		}
	}
	if len(run.Sent) != 2 || fake.Count() != 0 {
		t.Fatalf("posthog-js sent %+v; the stopped fake counts %d", run.Sent, fake.Count())
	}
	if err := fake.Restart(); err != nil {
		t.Fatal(err)
	}
	waitMirrored(t, fake, run.Sent)
}
