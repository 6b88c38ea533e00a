package ga4

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
	"github.com/hogsend/hogsend-proxy/internal/fakeads"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/ga4fake"
)

func newPair(t *testing.T, debug bool) (*Client, *ga4fake.Server) {
	t.Helper()
	fake := ga4fake.New(ga4fake.WithClock(func() time.Time { return testNow }))
	t.Cleanup(fake.Close)
	c, err := New(Config{
		MeasurementID: ga4fake.DefaultMeasurementID,
		APISecret:     ga4fake.DefaultAPISecret,
		BaseURL:       fake.URL,
		Debug:         debug,
	}, conversions.ClientOptions{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return c, fake
}

// conv is the shared test conversion of contact, deduplicated by dedup; its
// client id comes from the contact, so conversions group by contact.
func conv(contact, dedup string) conversions.Conversion {
	c := destinationtest.Conversion(0, "purchase", testNow.Add(-time.Hour))
	c.ContactID, c.DedupID, c.Clicks.GAClientID = contact, dedup, ""
	return c
}

func classes(out []conversions.Outcome) string {
	s := make([]string, len(out))
	for i, o := range out {
		s[i] = o.Class.String()
	}
	return strings.Join(s, ",")
}

func noRejections(t *testing.T, fake *ga4fake.Server) {
	t.Helper()
	if r := fake.Rejections(); len(r) != 0 {
		t.Fatalf("fake found violations: %+v", r)
	}
}

func TestSendHappyBatch(t *testing.T) {
	c, fake := newPair(t, false)
	out := c.Send(context.Background(), []conversions.Conversion{conv("a", "d1"), conv("b", "d2"), conv("a", "d3")})
	if got := classes(out); got != "delivered,delivered,delivered" {
		t.Fatalf("outcomes %s: %+v", got, out)
	}
	noRejections(t, fake)
	if n := len(fake.Requests()); n != 2 {
		t.Errorf("%d requests, want 2 (one per client_id)", n)
	}
	if fake.Ledger.Unique() != 3 || fake.Total() != 3 {
		t.Errorf("ledger unique %d total %d, want 3 and 3", fake.Ledger.Unique(), fake.Total())
	}
}

func TestSendSplitsAtMaxBatch(t *testing.T) {
	c, fake := newPair(t, false)
	var batch []conversions.Conversion
	for i := 0; i < 30; i++ {
		batch = append(batch, conv("a", fmt.Sprintf("d%d", i)))
	}
	for i, o := range c.Send(context.Background(), batch) {
		if o.Class != conversions.Delivered {
			t.Fatalf("conversion %d: %+v", i, o)
		}
	}
	noRejections(t, fake)
	if n := len(fake.Requests()); n != 2 {
		t.Errorf("%d requests, want 2 (25 + 5)", n)
	}
	if fake.Ledger.Unique() != 30 {
		t.Errorf("ledger %d, want 30", fake.Ledger.Unique())
	}
}

func TestSendRejectsInvalidWithoutSending(t *testing.T) {
	c, fake := newPair(t, false)
	old := conv("a", "old")
	old.OccurredAt = testNow.Add(-73 * time.Hour)
	denied := conv("b", "denied")
	denied.Consent = conversions.ConsentDenied
	noID := conv("", "noid")
	out := c.Send(context.Background(), []conversions.Conversion{old, conv("c", "ok"), denied, noID})
	if got := classes(out); got != "rejected,delivered,rejected,rejected" {
		t.Fatalf("outcomes %s: %+v", got, out)
	}
	for _, i := range []int{0, 2, 3} {
		if out[i].Reason == "" || out[i].Status != 0 {
			t.Errorf("outcome %d: %+v, want a reason and no status", i, out[i])
		}
	}
	noRejections(t, fake)
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if keys := fake.Ledger.Keys(); len(keys) != 1 || keys[0] != "c|ok" {
		t.Errorf("ledger keys %v, want [c|ok]", keys)
	}
}

func TestSendFaults(t *testing.T) {
	f := func(name string, debug bool, fault fakeads.Fault, events int, want conversions.Outcome) {
		t.Helper()
		c, fake := newPair(t, debug)
		fake.Script.Push(fault)
		batch := make([]conversions.Conversion, events)
		for i := range batch {
			batch[i] = conv("a", fmt.Sprintf("d%d", i))
		}
		out := c.Send(context.Background(), batch)
		for i, o := range out {
			if o.Class != want.Class || o.RetryAfter != want.RetryAfter || o.WholeBatch != want.WholeBatch || o.Status != want.Status {
				t.Errorf("%s: outcome %d = %+v, want %+v", name, i, o, want)
			}
			if o.Class != conversions.Delivered && o.Reason == "" {
				t.Errorf("%s: outcome %d has no reason", name, i)
			}
		}
		if fake.Ledger.Unique() != 0 {
			t.Errorf("%s: faulted request counted", name)
		}
	}
	f("429", false, fakeads.Fault{Status: 429, Header: map[string]string{"Retry-After": "7"}}, 2,
		conversions.Outcome{Class: conversions.Retry, RetryAfter: 7 * time.Second, Status: 429})
	f("503", false, fakeads.Fault{Status: 503}, 1, conversions.Outcome{Class: conversions.Retry, Status: 503})
	f("408", false, fakeads.Fault{Status: 408}, 1, conversions.Outcome{Class: conversions.Retry, Status: 408})
	f("auth 403", false, fakeads.Fault{Status: 403, Body: `{"error":"forbidden"}`}, 2, conversions.Outcome{Class: conversions.Halt, Status: 403})
	f("not found", false, fakeads.Fault{Status: 404}, 1, conversions.Outcome{Class: conversions.Halt, Status: 404})
	f("debug bad event in batch", true, fakeads.Fault{Status: 200,
		Body: `{"validationMessages":[{"fieldPath":"events","description":"Event name is reserved.","validationCode":"NAME_RESERVED"}]}`}, 3,
		conversions.Outcome{Class: conversions.Rejected, WholeBatch: true, Status: 200})
	f("debug bad single event", true, fakeads.Fault{Status: 200,
		Body: `{"validationMessages":[{"fieldPath":"events","description":"x","validationCode":"VALUE_INVALID"}]}`}, 1,
		conversions.Outcome{Class: conversions.Rejected, Status: 200})
}

func TestSendDebugMode(t *testing.T) {
	c, fake := newPair(t, true)
	out := c.Send(context.Background(), []conversions.Conversion{conv("a", "d1"), conv("a", "d2")})
	if got := classes(out); got != "delivered,delivered" {
		t.Fatalf("outcomes %s: %+v", got, out)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Path != ga4fake.DebugPath {
		t.Fatalf("requests %+v, want one to %s", reqs, ga4fake.DebugPath)
	}
	noRejections(t, fake)
	if fake.Ledger.Unique() != 0 {
		t.Error("debug endpoint must record nothing")
	}
}

func TestRequestShape(t *testing.T) {
	c, fake := newPair(t, false)
	c.Send(context.Background(), []conversions.Conversion{conv("a", "d1")})
	r := fake.Requests()[0]
	if r.Method != http.MethodPost || r.Path != ga4fake.CollectPath {
		t.Errorf("%s %s", r.Method, r.Path)
	}
	if r.Query != "api_secret="+ga4fake.DefaultAPISecret+"&measurement_id="+ga4fake.DefaultMeasurementID {
		t.Errorf("query %q", r.Query)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
}

func TestConfigValidate(t *testing.T) {
	f := func(cfg Config, want string) {
		t.Helper()
		err := cfg.Validate()
		switch {
		case want == "" && err != nil:
			t.Errorf("%+v: unexpected %v", cfg, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%+v: err %v, want %q", cfg, err, want)
		}
	}
	f(Config{MeasurementID: "G-ABC123", APISecret: "s"}, "")
	f(Config{APISecret: "s"}, "measurement_id: required")
	f(Config{MeasurementID: "${GA4_ID}", APISecret: "s"}, "measurement_id:")
	f(Config{MeasurementID: "G-ABC123"}, "api_secret: required")
	f(Config{MeasurementID: "G-ABC123", APISecret: "${SECRET}"}, "api_secret: looks like an unexpanded")
	f(Config{MeasurementID: "G-ABC123", APISecret: "s", BaseURL: "ftp://x"}, "base_url:")
	f(Config{MeasurementID: "G-ABC123", APISecret: "s", DefaultPhoneCountry: "0044"}, "default_phone_country:")
	f(Config{MeasurementID: "G-ABC123", APISecret: "s", Timeout: conversions.Timeout(-time.Second)}, "timeout:")

	cfg := Config{MeasurementID: "G-ABC123", APISecret: "s"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL != DefaultBaseURL || cfg.Timeout.Duration() != conversions.DefaultTimeout {
		t.Errorf("defaults not filled: %+v", cfg)
	}
	if got := cfg.endpoint(); got != "https://www.google-analytics.com/mp/collect?api_secret=s&measurement_id=G-ABC123" {
		t.Errorf("endpoint %q", got)
	}
	cfg.Debug = true
	if got := cfg.endpoint(); !strings.HasPrefix(got, DefaultBaseURL+"/debug/mp/collect?") {
		t.Errorf("debug endpoint %q", got)
	}
	if _, err := New(Config{}, conversions.ClientOptions{}); err == nil || !strings.Contains(err.Error(), "ga4 config") {
		t.Errorf("New with empty config: %v", err)
	}
}

// TestTransportErrorHasNoSecret: net/http quotes the request URL in a
// transport error, and the URL carries api_secret; the outcome's reason
// (last_error, dead letters, logs) names the endpoint but not the secret.
func TestTransportErrorHasNoSecret(t *testing.T) {
	c, fake := newPair(t, false)
	fake.Close()
	out := c.Send(context.Background(), []conversions.Conversion{conv("a", "d1")})
	r := out[0].Reason
	if out[0].Class != conversions.Retry || strings.Contains(r, ga4fake.DefaultAPISecret) {
		t.Fatalf("outcome %+v leaks the api_secret", out[0])
	}
	if !strings.Contains(r, "/mp/collect?api_secret=REDACTED") {
		t.Fatalf("reason %q does not name the endpoint", r)
	}
}
