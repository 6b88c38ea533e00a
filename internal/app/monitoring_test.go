package app

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gopkg.in/yaml.v3"

	"github.com/hogsend/hogsend-proxy/internal/fakeengine"
	"github.com/hogsend/hogsend-proxy/internal/fakeposthog"
	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// The monitoring files operators load (docs/monitoring.md).
const (
	dashboardFile  = "../../docs/monitoring/grafana-dashboard.json"
	alertRulesFile = "../../docs/monitoring/alerts.yml"
)

// trafficRoutes are the route labels driveEveryRoute makes traffic on.
var trafficRoutes = []string{
	"/healthz", "/readyz", "/metrics", "PUT /v1/contacts", "GET /v1/contacts/find", "DELETE /v1/contacts",
	"POST /v1/events", "POST /v1/admin/api-keys", "DELETE /v1/admin/api-keys/{id}", "OPTIONS",
	"posthog capture", "hogsend engine", "posthog project",
}

// trafficShows are queries that return data only once the traffic went
// everywhere: stored, delivered to each destination, refused and warned of,
// so that the panels show values, not only zeros.
var trafficShows = []string{
	`sum(hogsend_clickhouse_insert_rows_total) > 0`,
	`sum(hogsend_events_duplicate_total{api="native"}) > 0`,
	`sum(hogsend_capture_warnings_total{warning="event_too_large"}) > 0`,
	`sum(hogsend_edge_refused_total{reason="malformed_request"}) > 0`,
	`sum(hogsend_capture_rejected_total) > 0`,
	`sum(hogsend_conversions_delivered_total) > 0`,
	`sum(hogsend_handoff_delivered_total) > 0`,
	`sum(hogsend_posthog_mirror_delivered_total) > 0`,
	`sum(hogsend_upstream_requests_total{outcome="relayed"}) > 0`,
	`sum(hogsend_posthog_passthrough_total) > 0`,
	`min(hogsend_dependency_up) == 1`,
}

// TestMonitoring (issue 14): with every destination configured against the
// repository's fakes and traffic on every route kind, /metrics passes
// `promtool check metrics`, every query of the Grafana dashboard returns
// data from a real Prometheus scraping the proxy, and every alert rule
// evaluates there.
func TestMonitoring(t *testing.T) {
	h, engineKey := startMonitoredProxy(t)
	driveEveryRoute(t, h, engineKey)
	page := scrape(t, h)
	for _, route := range trafficRoutes {
		if !strings.Contains(page, `hogsend_http_requests_total{route="`+route+`"`) {
			t.Errorf("/metrics has no requests of route %q", route)
		}
	}
	if free := metricValue(t, h, "hogsend_spool_disk_free_bytes"); free <= 0 {
		t.Errorf("hogsend_spool_disk_free_bytes = %v, want the free space of the data directory's filesystem", free)
	}
	if max := metricValue(t, h, "hogsend_spool_max_bytes"); max != float64(h.cfg.SpoolMaxBytes) {
		t.Errorf("hogsend_spool_max_bytes = %v, want HOGSEND_SPOOL_MAX_BYTES %d", max, h.cfg.SpoolMaxBytes)
	}
	commits, fsyncs := metricValue(t, h, "hogsend_spool_commit_seconds_count"), metricValue(t, h, "hogsend_spool_fsyncs_total")
	if commits < 1 || commits > fsyncs {
		t.Errorf("hogsend_spool_commit_seconds counted %v commits of %v fsyncs, want every successful one", commits, fsyncs)
	}
	testenv.Promtool(t, []byte(page), "metrics")
	prom := testenv.Prometheus(t, h.app.Addr())

	exprs := dashboardExprs(t)
	if len(exprs) < 30 {
		t.Fatalf("the dashboard has %d queries; it lost panels", len(exprs))
	}
	assertNamesExposed(t, page, exprs)
	exprs = append(exprs, trafficShows...)
	// A rate needs two scrapes of its series inside the window; the series
	// stay on /metrics after the traffic, so the queries are asked until all
	// have data, or the deadline says which lack it.
	deadline := time.Now().Add(60 * time.Second)
	for empty := emptyQueries(t, prom, exprs); len(empty) > 0; empty = emptyQueries(t, prom, exprs) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d queries return no data:\n%s", len(empty), len(exprs), strings.Join(empty, "\n"))
		}
		time.Sleep(time.Second) // one scrape interval
	}
	rules := alertExprs(t)
	assertNamesExposed(t, page, rules)
	for _, expr := range rules {
		if _, err := prom.PromQuery(expr); err != nil {
			t.Errorf("alert rule does not evaluate: %v", err)
		}
	}
}

// TestAlertRulesPassPromtool: the alert rules load in Prometheus.
func TestAlertRulesPassPromtool(t *testing.T) {
	testenv.Promtool(t, nil, "rules", alertRulesFile)
}

// startMonitoredProxy runs the proxy with conversions to the ad platform
// fakes, the hand-off to a fake engine and the mirror to a fake PostHog
// project, so that every panel of the dashboard has series.
// It returns the harness and a key the engine takes.
func startMonitoredProxy(t *testing.T) (*harness, string) {
	t.Helper()
	t.Setenv("TEST_META_TOKEN", "meta-token")
	fakes := startFakes(t)
	engine, err := fakeengine.New(fakeengine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(engine.Close)
	ph, err := fakeposthog.New(fakeposthog.Options{Token: projectToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ph.Close)
	cfg, _, _ := serverConfig(t)
	cfg.Conversions = conversionsNode(t, fakes.yaml(paidRule))
	cfg.UpstreamURL, cfg.UpstreamAPIKey = engine.URL(), engine.MintKey("ingest")
	cfg.PostHogUpstreamURL, cfg.PostHogAssetsURL, cfg.PostHogTokens = ph.URL(), ph.URL(), []string{projectToken}
	cfg.SpoolMaxBytes = 1 << 30
	return startHarness(t, cfg), engine.MintKey("ingest")
}

// driveEveryRoute sends a request of each kind, including the ones that are
// refused or warned of, so that every labelled family has a series.
func driveEveryRoute(t *testing.T, h *harness, engineKey string) {
	t.Helper()
	h.do("GET", "/healthz", "", "", "")
	h.do("GET", "/readyz", "", "", "")
	h.json("PUT", "/v1/contacts", `{"userId":"u_mon","email":"mon@example.com"}`)
	h.json("GET", "/v1/contacts/find?userId=u_mon", "")
	paid := `{"email":"mon@example.com","name":"subscription.created","eventProperties":{"plan":"pro","amount":4900,"currency":"usd"}}`
	h.json("POST", "/v1/events", paid, "Idempotency-Key", uuid.NewString())
	key := uuid.NewString()
	h.json("POST", "/v1/events", `{"userId":"u_mon","name":"page.viewed"}`, "Idempotency-Key", key)
	h.json("POST", "/v1/events", `{"userId":"u_mon","name":"page.viewed"}`, "Idempotency-Key", key) // a duplicate
	h.json("DELETE", "/v1/contacts", `{"userId":"u_mon_gone"}`)
	h.do("OPTIONS", "/v1/events", "", "", "", "Origin", "https://app.example", "Access-Control-Request-Method", "POST")
	revokeNewKey(t, h)
	h.do("GET", "/v1/contacts/me", engineKey, "", "") // passed through to the engine
	h.do("POST", "/batch/", "", "application/json", captureBatch(`"pad":"`+strings.Repeat("x", 1<<20+1)+`"`))
	h.do("POST", "/batch/", "", "application/json", `{"batch":[]}`) // no token: rejected
	h.do("POST", "/flags/?v=2", "", "application/json", `{"api_key":"`+projectToken+`","distinct_id":"ph-mon"}`)
	sendMalformedRequest(t, h)
	h.do("GET", "/metrics", "", "", "")
}

// captureBatch is a capture batch of two events, the second with
// properties bigProps (an oversize one is dropped with a warning).
func captureBatch(bigProps string) string {
	return `{"api_key":"` + projectToken + `","batch":[` +
		`{"event":"mon.viewed","distinct_id":"ph-mon","uuid":"` + uuid.NewString() + `","properties":{}},` +
		`{"event":"mon.big","distinct_id":"ph-mon","uuid":"` + uuid.NewString() + `","properties":{` + bigProps + `}}]}`
}

func revokeNewKey(t *testing.T, h *harness) {
	t.Helper()
	r := h.do("POST", "/v1/admin/api-keys", h.admin, "application/json", `{"name":"monitoring","scopes":["ingest"]}`)
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.body, &created); err != nil || created.ID == "" {
		t.Fatalf("mint a key: %d %s", r.status, r.body)
	}
	h.do("DELETE", "/v1/admin/api-keys/"+created.ID, h.admin, "", "")
}

// sendMalformedRequest writes a request fasthttp cannot parse, refused at
// the edge as malformed_request.
func sendMalformedRequest(t *testing.T, h *harness) {
	t.Helper()
	c, err := net.DialTimeout("tcp", h.app.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "NOT HTTP AT ALL\r\n\r\n")
	io.ReadAll(c)
}

func scrape(t *testing.T, h *harness) string {
	t.Helper()
	resp, err := http.Get(h.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// grafanaVariables stand for the dashboard's template variables: all
// instances, and the rate window Grafana derives from the scrape interval.
var grafanaVariables = strings.NewReplacer(`$instance`, `.*`, `$__rate_interval`, `30s`)

// dashboardExprs are the queries of every panel of the dashboard, with the
// template variables substituted.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var exprs []string
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			exprs = append(exprs, grafanaVariables.Replace(target.Expr))
		}
	}
	return exprs
}

// alertExprs are the expressions of the alert rules.
func alertExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(alertRulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Expr string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", alertRulesFile, err)
	}
	var exprs []string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	return exprs
}

// emptyQueries are the exprs that return no series now; a query that fails
// fails the test.
func emptyQueries(t *testing.T, prom *testenv.Process, exprs []string) []string {
	t.Helper()
	var empty []string
	for _, expr := range exprs {
		res, err := prom.PromQuery(expr)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) == 0 {
			empty = append(empty, expr)
		}
	}
	return empty
}

var metricName = regexp.MustCompile(`\b(hogsend|go|process)_[a-z_]+`)

// assertNamesExposed checks that every metric a query names is on the page,
// so that a renamed metric cannot leave a panel or a rule behind.
func assertNamesExposed(t *testing.T, page string, exprs []string) {
	t.Helper()
	var missing []string
	for _, expr := range exprs {
		for _, name := range metricName.FindAllString(expr, -1) {
			if !regexp.MustCompile(`(?m)^`+name+`[{ ]`).MatchString(page) && !slices.Contains(missing, name) {
				missing = append(missing, name)
			}
		}
	}
	if len(missing) > 0 {
		t.Errorf("queries name metrics /metrics lacks: %v", missing)
	}
}
