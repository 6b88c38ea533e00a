package app

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/internal/fakeads"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/ga4fake"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/googleadsfake"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/linkedinfake"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/metafake"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/redditfake"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/tiktokfake"
)

// conversionsNode parses a YAML document holding a conversions: section.
func conversionsNode(t *testing.T, doc string) *yaml.Node {
	t.Helper()
	var m map[string]yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("conversions yaml: %v", err)
	}
	n, ok := m["conversions"]
	if !ok {
		t.Fatal("no conversions key")
	}
	return &n
}

// platformFakes are the strict fake platforms of a test.
type platformFakes struct {
	ga4      *ga4fake.Server
	meta     *metafake.Server
	google   *googleadsfake.Server
	tiktok   *tiktokfake.Server
	linkedin *linkedinfake.Server
	reddit   *redditfake.Server
}

func startFakes(t *testing.T) *platformFakes {
	f := &platformFakes{
		ga4:      ga4fake.New(),
		meta:     metafake.New(metafake.WithPixelID("1234567890"), metafake.WithAccessToken("meta-token")),
		google:   googleadsfake.New(),
		tiktok:   tiktokfake.New(),
		linkedin: linkedinfake.New(),
		reddit:   redditfake.New(),
	}
	t.Cleanup(func() {
		f.ga4.Close()
		f.meta.Close()
		f.google.Close()
		f.tiktok.Close()
		f.linkedin.Close()
		f.reddit.Close()
	})
	return f
}

// ledgers are the dedup ledgers of every fake, by destination name.
func (f *platformFakes) ledgers() map[string]*fakeads.Ledger {
	return map[string]*fakeads.Ledger{
		"meta": f.meta.Ledger, "google_ads": f.google.Ledger, "tiktok": f.tiktok.Ledger,
		"linkedin": f.linkedin.Ledger, "reddit": f.reddit.Ledger, "ga4": f.ga4.Ledger,
	}
}

// yaml is the conversions section pointing every destination at its fake,
// with quick retries and a breaker that opens after 3 failures for 1 s.
func (f *platformFakes) yaml(rules string) string {
	return fmt.Sprintf(`
conversions:
  destinations:
    meta: {pixel_id: "1234567890", access_token: "${TEST_META_TOKEN}", api_version: "v21.0", base_url: %q}
    google_ads: {customer_id: %q, conversion_action: %q, developer_token: %q, client_id: %q, client_secret: %q,
                 refresh_token: %q, token_url: %q, base_url: %q, api_version: "v24"}
    tiktok: {pixel_code: %q, access_token: %q, base_url: %q}
    linkedin: {conversion_urn: "urn:lla:llaPartnerConversion:123", access_token: %q, version: "202607", base_url: %q}
    reddit: {pixel_id: %q, access_token: %q, base_url: %q}
    ga4: {measurement_id: %q, api_secret: %q, base_url: %q}
  consent: {property: marketing_consent}
  delivery: {retry_initial: 50ms, retry_max: 400ms, breaker_failures: 3, breaker_open_for: 1s}
  rules:
%s`, f.meta.URL,
		googleadsfake.DefaultCustomerID, googleadsfake.DefaultConversionActionID, googleadsfake.DefaultDeveloperToken,
		googleadsfake.DefaultClientID, googleadsfake.DefaultClientSecret, googleadsfake.DefaultRefreshToken,
		f.google.TokenURL(), f.google.URL,
		tiktokfake.DefaultPixelCode, tiktokfake.DefaultAccessToken, f.tiktok.URL,
		linkedinfake.DefaultToken, f.linkedin.URL,
		redditfake.DefaultPixelID, redditfake.DefaultToken, f.reddit.URL,
		ga4fake.DefaultMeasurementID, ga4fake.DefaultAPISecret, f.ga4.URL, rules)
}

const paidRule = `
    - id: paid_subscription
      trigger: {event: subscription.created, where: [{property: plan, operator: eq, value: pro}]}
      value: {source: property, key: amount, currency_key: currency, divide_by: 100}
      attribution_window: 720h
      destinations: {meta: Purchase, google_ads: purchase, tiktok: CompletePayment, linkedin: purchase, reddit: Purchase, ga4: purchase}
`

func waitUntil(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitConversionsIdle waits until the deriver has read the whole spool and
// every dispatcher has delivered its queue, so what the fakes counted is all
// they will get.
func waitConversionsIdle(t *testing.T, h *harness) {
	t.Helper()
	c := h.app.Conversions
	waitUntil(t, "conversions to go idle", 30*time.Second, func() bool {
		if c.Deriver.Backlog() != 0 {
			return false
		}
		for _, d := range c.Dispatchers {
			if d.Backlog() != 0 {
				return false
			}
		}
		return true
	})
}

func (h *harness) dispatcher(name string) *conversions.Dispatcher {
	for _, d := range h.app.Conversions.Dispatchers {
		if d.Name() == name {
			return d
		}
	}
	h.t.Fatalf("no dispatcher %s", name)
	return nil
}

func TestConversionsEndToEnd(t *testing.T) {
	t.Setenv("TEST_META_TOKEN", "meta-token")
	fakes := startFakes(t)
	cfg, _, _ := serverConfig(t)
	cfg.Conversions = conversionsNode(t, fakes.yaml(paidRule))
	h := startHarness(t, cfg)

	// A click arrives first (Hogsend's campaign.arrived), then the paid
	// subscription, which carries no click id of its own.
	r := h.json("POST", "/v1/events", jsonBody(map[string]any{
		"email": "Buyer@Example.com", "name": "campaign.arrived",
		"eventProperties": map[string]any{"clickIds": map[string]any{"ttclid": "tt-click-1", "li_fat_id": "li-fat-1"}},
	}))
	if r.status != 202 {
		t.Fatalf("click: %d %s", r.status, r.body)
	}
	events := []map[string]any{
		// converts
		{"email": "buyer@example.com", "name": "subscription.created", "eventProperties": map[string]any{"plan": "pro", "amount": 4900, "currency": "usd"}},
		// not the plan of the rule
		{"email": "buyer@example.com", "name": "subscription.created", "eventProperties": map[string]any{"plan": "free"}},
		// consent denied on the event
		{"email": "buyer@example.com", "name": "subscription.created", "eventProperties": map[string]any{"plan": "pro", "marketing_consent": false}},
		// another event name
		{"email": "buyer@example.com", "name": "subscription.renewed", "eventProperties": map[string]any{"plan": "pro"}},
	}
	for i, ev := range events {
		r := h.json("POST", "/v1/events", jsonBody(ev))
		if r.status != 202 {
			t.Fatalf("event %d: %d %s", i, r.status, r.body)
		}
	}
	// The same event again with its idempotency key is a duplicate: no conversion.
	for range 2 {
		if r := h.json("POST", "/v1/events", jsonBody(events[0]), "Idempotency-Key", "paid-once"); r.status != 202 {
			t.Fatalf("idempotent event: %d %s", r.status, r.body)
		}
	}

	waitUntil(t, "two conversions per platform", 30*time.Second, func() bool {
		for _, l := range fakes.ledgers() {
			if l.Unique() != 2 {
				return false
			}
		}
		return true
	})
	waitConversionsIdle(t, h) // nothing else may arrive
	for name, l := range fakes.ledgers() {
		if n := l.Unique(); n != 2 {
			t.Fatalf("%s counted %d conversions, want 2", name, n)
		}
	}
	// Two stored events convert: the first, and the first of the two
	// sends with the same idempotency key.
	converting := h.rows(`SELECT toString(id), toString(contact_id) FROM user_events
WHERE event = 'subscription.created' AND properties LIKE '%4900%' ORDER BY id`)
	if len(converting) != 2 {
		t.Fatalf("converting events %q", converting)
	}
	var wantKeys []string
	for _, ev := range converting {
		wantKeys = append(wantKeys, "CompletePayment\x00"+conversions.DedupID(ev[1], "paid_subscription", ev[0]))
	}
	gotKeys := fakes.tiktok.Ledger.Keys()
	slices.Sort(gotKeys)
	slices.Sort(wantKeys)
	if !slices.Equal(gotKeys, wantKeys) {
		t.Fatalf("tiktok dedup keys %q, want %q", gotKeys, wantKeys)
	}
	wantDedup := conversions.DedupID(converting[0][1], "paid_subscription", converting[0][0])
	reqs := fakes.tiktok.Requests()
	var body string
	for _, rq := range reqs {
		if strings.Contains(string(rq.Body), wantDedup) {
			body = string(rq.Body)
		}
	}
	if body == "" {
		t.Fatalf("no tiktok request carries dedup id %s", wantDedup)
	}
	for _, want := range []string{
		`"event":"CompletePayment"`, `"ttclid":"tt-click-1"`, `"value":49`, `"currency":"USD"`,
		// sha256("buyer@example.com")
		`"email":"6a6c26195c3682faa816966af789717c3bfa834eee6c599d667d2b3429c27cfd"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("tiktok body lacks %s: %s", want, body)
		}
	}
	var li string
	for _, rq := range fakes.linkedin.Requests() {
		if strings.Contains(string(rq.Body), wantDedup) {
			li = string(rq.Body)
		}
	}
	for _, want := range []string{`"LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID"`, `"li-fat-1"`, `"eventId":"` + wantDedup + `"`} {
		if !strings.Contains(li, want) {
			t.Errorf("linkedin body lacks %s: %s", want, li)
		}
	}

	waitUntil(t, "dispatch history", 10*time.Second, func() bool {
		return h.count("SELECT count() FROM conversion_dispatches WHERE status = 'delivered'") == 12
	})
	// Each conversion was recorded pending when queued, then delivered.
	if got := h.rows(`SELECT destination, groupArray(status) FROM (SELECT destination, status FROM conversion_dispatches
WHERE dedup_id = '` + wantDedup + `' ORDER BY at, status DESC) GROUP BY destination ORDER BY destination`); len(got) != 6 || got[0][1] != "['pending','delivered']" {
		t.Fatalf("dispatch history of %s: %q", wantDedup, got)
	}
	if n := h.count("SELECT count() FROM contact_clicks WHERE kind IN ('ttclid', 'li_fat_id')"); n != 2 {
		t.Fatalf("recorded clicks = %d, want 2", n)
	}
	if n := h.app.Conversions.Deriver.Skipped(); n != 1 {
		t.Fatalf("skipped (consent) = %d, want 1", n)
	}
}

// While one platform is down its breaker opens and its queue holds; the
// other platform keeps receiving; when the platform is back everything
// queued is delivered once and the breaker closes.
func TestConversionsOutageOpensBreakerOthersFlow(t *testing.T) {
	t.Setenv("TEST_META_TOKEN", "meta-token")
	fakes := startFakes(t)
	cfg, _, _ := serverConfig(t)
	cfg.Conversions = conversionsNode(t, fakes.yaml(paidRule))
	h := startHarness(t, cfg)

	fakes.tiktok.Script.Down(fakeads.Fault{Status: 503, Body: `{"code":50000,"message":"down"}`})
	const n = 20
	for i := range n {
		r := h.json("POST", "/v1/events", jsonBody(map[string]any{
			"email": fmt.Sprintf("p%d@example.com", i), "name": "subscription.created",
			"eventProperties": map[string]any{"plan": "pro", "amount": 1000 + i, "currency": "EUR", "ttclid": fmt.Sprint("tt", i), "li_fat_id": fmt.Sprint("li", i)},
		}))
		if r.status != 202 {
			t.Fatalf("event %d: %d %s", i, r.status, r.body)
		}
	}
	waitUntil(t, "the other platforms to receive everything during the tiktok outage", 30*time.Second, func() bool {
		for name, l := range fakes.ledgers() {
			if name != "tiktok" && l.Unique() != n {
				return false
			}
		}
		return true
	})
	tt := h.dispatcher("tiktok")
	waitUntil(t, "the tiktok breaker to open", 30*time.Second, func() bool { return tt.BreakerState() == "open" })
	if got := fakes.tiktok.Ledger.Unique(); got != 0 {
		t.Fatalf("tiktok counted %d while down", got)
	}
	fakes.tiktok.Script.Up()
	waitUntil(t, "tiktok to catch up", 30*time.Second, func() bool { return fakes.tiktok.Ledger.Unique() == n })
	waitUntil(t, "the tiktok breaker to close", 10*time.Second, func() bool { return tt.BreakerState() == "closed" })
	// The fake counts a conversion when it receives it, the dispatcher once
	// it has read the answer: wait for the dispatcher too.
	waitUntil(t, "tiktok's dispatcher to count its deliveries", 10*time.Second, func() bool { return tt.Delivered() >= n })
	if tt.Failed() != 0 || tt.Delivered() != n {
		t.Fatalf("tiktok delivered %d failed %d, want %d and 0", tt.Delivered(), tt.Failed(), n)
	}
	// The dispatcher commits its queue cursor once a batch's outcomes are
	// recorded, just after counting them delivered.
	waitUntil(t, "the tiktok queue to be committed to its end", 10*time.Second, func() bool { return tt.Backlog() == 0 })
}

// A conversion the platform refuses for good is dead-lettered with the
// platform's reason; replay re-sends it with its original dedup id.
func TestConversionsDeadLetterAndReplay(t *testing.T) {
	t.Setenv("TEST_META_TOKEN", "meta-token")
	fakes := startFakes(t)
	cfg, _, _ := serverConfig(t)
	cfg.Conversions = conversionsNode(t, fakes.yaml(paidRule))
	h := startHarness(t, cfg)

	fakes.tiktok.Script.Push(tiktokfake.InvalidEvent(0, "properties.value", "Not a valid number"))
	r := h.json("POST", "/v1/events", jsonBody(map[string]any{
		"email": "dl@example.com", "name": "subscription.created",
		"eventProperties": map[string]any{"plan": "pro", "amount": 500, "currency": "EUR", "ttclid": "tt-dl"},
	}))
	if r.status != 202 {
		t.Fatalf("event: %d %s", r.status, r.body)
	}
	waitUntil(t, "the dead letter", 30*time.Second, func() bool {
		letters, err := h.app.Backend.LoadConversionDeadLetters(t.Context(), "tiktok")
		return err == nil && len(letters) == 1
	})
	letters, _ := h.app.Backend.LoadConversionDeadLetters(t.Context(), "tiktok")
	if !strings.Contains(letters[0].Reason, "Not a valid number") {
		t.Fatalf("dead letter reason %q", letters[0].Reason)
	}
	if got := fakes.tiktok.Ledger.Unique(); got != 0 {
		t.Fatalf("tiktok counted %d", got)
	}
	res, err := conversions.Replay(t.Context(), h.dispatcher("tiktok").Destination(), letters, h.app.Backend,
		h.app.Conversions.History, h.app.Conversions.Settings.Dispatch, t.TempDir())
	if err != nil || res.Replayed != 1 || res.Delivered != 1 {
		t.Fatalf("replay = %+v, %v", res, err)
	}
	if keys := fakes.tiktok.Ledger.Keys(); len(keys) != 1 || !strings.HasSuffix(keys[0], letters[0].DedupID) {
		t.Fatalf("tiktok ledger %q, want the dead letter's dedup id %s", keys, letters[0].DedupID)
	}
	if left, err := h.app.Backend.LoadConversionDeadLetters(t.Context(), "tiktok"); err != nil || len(left) != 0 {
		t.Fatalf("dead letters after replay: %+v, %v", left, err)
	}
}

// PostHog traffic: clicks from a pageview's URL and $initial_* person
// properties attribute a later server-side conversion; browser-captured
// events (posthog-js) do not convert by default, nor do historical imports.
func TestConversionsFromPostHog(t *testing.T) {
	t.Setenv("TEST_META_TOKEN", "meta-token")
	fakes := startFakes(t)
	cfg, _, _ := serverConfig(t)
	cfg.Conversions = conversionsNode(t, fakes.yaml(`
    - id: signup
      trigger: {event: signed_up}
      value: {source: fixed, amount: 10, currency: EUR}
      destinations: {tiktok: CompleteRegistration, reddit: SignUp, meta: CompleteRegistration}
`))
	cfg.PostHogSecretTokens = []string{"phs_backend_secret"}
	h := startHarness(t, cfg)
	capture := func(body string) {
		t.Helper()
		if r := h.do("POST", "/batch/", "", "application/json", body); r.status != 200 {
			t.Fatalf("capture: %d %s", r.status, r.body)
		}
	}
	// The browser: a landing pageview with click ids in the URL, then
	// identify, then a browser-side signed_up (not trusted by default).
	capture(`{"api_key":"phc_x","batch":[
{"event":"$pageview","distinct_id":"anon-1","uuid":"0190e0a0-0000-7000-8000-00000000a001","properties":{"$lib":"web","$current_url":"https://shop.example/?ttclid=TT-1&rdt_cid=RDT-1","$set_once":{"$initial_fbclid":"FbClid-1"}}},
{"event":"$identify","distinct_id":"user-1","uuid":"0190e0a0-0000-7000-8000-00000000a002","properties":{"$lib":"web","$anon_distinct_id":"anon-1","$set":{"email":"ph@example.com"}}},
{"event":"signed_up","distinct_id":"user-1","uuid":"0190e0a0-0000-7000-8000-00000000a003","properties":{"$lib":"web"}}]}`)
	// An import of old data: never a conversion.
	capture(`{"api_key":"phc_x","historical_migration":true,"batch":[
{"event":"signed_up","distinct_id":"user-1","uuid":"0190e0a0-0000-7000-8000-00000000a004","properties":{"$lib":"posthog-node"}}]}`)
	// A browser claiming to be posthog-node is still a browser: $lib is
	// client-set, the public token decides.
	capture(`{"api_key":"phc_x","batch":[
{"event":"signed_up","distinct_id":"user-1","uuid":"0190e0a0-0000-7000-8000-00000000a006","properties":{"$lib":"posthog-node"}}]}`)
	// The backend (posthog-node, given the secret token) records the real signup.
	capture(`{"api_key":"phs_backend_secret","batch":[
{"event":"signed_up","distinct_id":"user-1","uuid":"0190e0a0-0000-7000-8000-00000000a005","properties":{"$lib":"posthog-node","$ip":"203.0.113.9"}}]}`)

	waitUntil(t, "one conversion per platform", 30*time.Second, func() bool {
		return fakes.tiktok.Ledger.Unique() == 1 && fakes.reddit.Ledger.Unique() == 1 && fakes.meta.Ledger.Unique() == 1
	})
	waitConversionsIdle(t, h)
	if fakes.tiktok.Ledger.Unique() != 1 || fakes.reddit.Ledger.Unique() != 1 || fakes.meta.Ledger.Unique() != 1 {
		t.Fatalf("conversions: tiktok %d reddit %d meta %d, want 1 each", fakes.tiktok.Ledger.Unique(), fakes.reddit.Ledger.Unique(), fakes.meta.Ledger.Unique())
	}
	contact := h.rows("SELECT toString(contact_id) FROM user_events WHERE id = toUUID('0190e0a0-0000-7000-8000-00000000a005')")[0][0]
	dedup := conversions.DedupID(contact, "signup", "0190e0a0-0000-7000-8000-00000000a005")
	body := func(reqs []fakeads.Request) string {
		for _, r := range reqs {
			if strings.Contains(string(r.Body), dedup) {
				return string(r.Body)
			}
		}
		t.Fatalf("no request carries %s", dedup)
		return ""
	}
	if b := body(fakes.tiktok.Requests()); !strings.Contains(b, `"ttclid":"TT-1"`) || !strings.Contains(b, `"ip":"203.0.113.9"`) {
		t.Errorf("tiktok body lacks the pageview's ttclid or the ip: %s", b)
	}
	if b := body(fakes.reddit.Requests()); !strings.Contains(b, `"click_id":"RDT-1"`) {
		t.Errorf("reddit body lacks the pageview's rdt_cid: %s", b)
	}
	// fbc is built from the fbclid of $initial_fbclid with that event's time, case kept.
	if b := body(fakes.meta.Requests()); !strings.Contains(b, `.FbClid-1"`) || !strings.Contains(b, `"fbc":"fb.1.`) {
		t.Errorf("meta body lacks fbc from $initial_fbclid: %s", b)
	}
}

// A destination whose credentials are refused stops loudly (Halt): its
// queue is kept, nothing is dead-lettered, the others keep flowing.
func TestConversionsHaltOnConfigError(t *testing.T) {
	t.Setenv("TEST_META_TOKEN", "meta-token")
	fakes := startFakes(t)
	cfg, _, _ := serverConfig(t)
	cfg.Conversions = conversionsNode(t, fakes.yaml(paidRule))
	h := startHarness(t, cfg)
	fakes.linkedin.Script.Down(linkedinfake.RevokedToken())
	for i := range 3 {
		r := h.json("POST", "/v1/events", jsonBody(map[string]any{
			"email": fmt.Sprintf("h%d@example.com", i), "name": "subscription.created",
			"eventProperties": map[string]any{"plan": "pro", "amount": 100, "currency": "EUR"},
		}))
		if r.status != 202 {
			t.Fatalf("event: %d %s", r.status, r.body)
		}
	}
	li := h.dispatcher("linkedin")
	waitUntil(t, "linkedin to halt", 30*time.Second, func() bool { return li.Halted() != "" })
	waitUntil(t, "tiktok to deliver", 30*time.Second, func() bool { return fakes.tiktok.Ledger.Unique() == 3 })
	requests := fakes.linkedin.Requests()
	time.Sleep(500 * time.Millisecond)
	if n := len(fakes.linkedin.Requests()); n != len(requests) {
		t.Fatalf("a halted destination kept sending: %d requests, then %d", len(requests), n)
	}
	if li.Failed() != 0 || li.Backlog() == 0 {
		t.Fatalf("halted linkedin: failed %d backlog %d; want nothing dead-lettered and the queue kept", li.Failed(), li.Backlog())
	}
	if !strings.Contains(li.Halted(), "401") && !strings.Contains(strings.ToLower(li.Halted()), "token") {
		t.Fatalf("halt reason %q does not say why", li.Halted())
	}
	m := h.do("GET", "/metrics", "", "", "")
	if !strings.Contains(string(m.body), `hogsend_conversion_destination_halted{destination="linkedin"} 1`) {
		t.Fatalf("metrics do not show the halt")
	}
}

// The embedded default forwards conversions too, and a conversion queued
// while its platform is down survives a restart of the proxy.
func TestConversionsEmbeddedMode(t *testing.T) {
	requireChDB(t)
	t.Setenv("TEST_META_TOKEN", "meta-token")
	fakes := startFakes(t)
	dir := t.TempDir()
	cfg := baseConfig(t, dir)
	cfg.Conversions = conversionsNode(t, fakes.yaml(paidRule))
	h := startHarness(t, cfg)
	fakes.reddit.Script.Down(fakeads.Fault{Status: 503, Body: `{"message":"down"}`})
	r := h.json("POST", "/v1/events", jsonBody(map[string]any{
		"email": "emb@example.com", "name": "subscription.created",
		"eventProperties": map[string]any{"plan": "pro", "amount": 2500, "currency": "GBP"},
	}))
	if r.status != 202 {
		t.Fatalf("event: %d %s", r.status, r.body)
	}
	waitUntil(t, "tiktok", 60*time.Second, func() bool { return fakes.tiktok.Ledger.Unique() == 1 })
	// The deriver queues a conversion for each destination in turn: wait
	// for reddit's queue to hold it.
	waitUntil(t, "reddit's queue to hold the conversion", 10*time.Second, func() bool { return h.dispatcher("reddit").Backlog() > 0 })
	if fakes.reddit.Ledger.Unique() != 0 {
		t.Fatal("reddit counted a conversion while down")
	}
	key := h.key
	h.stop()

	fakes.reddit.Script.Up()
	cfg.Listen = baseConfig(t, dir).Listen
	h2 := startHarness(t, cfg)
	h2.key = key
	waitUntil(t, "reddit after the restart", 60*time.Second, func() bool { return fakes.reddit.Ledger.Unique() == 1 })
	waitConversionsIdle(t, h2)
	if fakes.tiktok.Ledger.Unique() != 1 || fakes.tiktok.Ledger.Duplicates() != 0 {
		t.Fatalf("tiktok counted %d (+%d duplicates) after the restart, want 1 and no re-send", fakes.tiktok.Ledger.Unique(), fakes.tiktok.Ledger.Duplicates())
	}
	if n := h2.count("SELECT count() FROM conversion_dispatches WHERE status = 'delivered'"); n < 2 {
		t.Fatalf("delivered dispatch rows = %d", n)
	}
}
