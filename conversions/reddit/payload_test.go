package reddit

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/hashing"
)

// The documented example time, 2026-01-01T00:00:00Z = 1767225600000 ms.
var exampleAt = time.UnixMilli(1767225600000).UTC()

func testClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	if cfg.PixelID == "" {
		cfg.PixelID = "a2_abc123"
	}
	if cfg.AccessToken == "" {
		cfg.AccessToken = "tok"
	}
	c, err := New(cfg, conversions.ClientOptions{Now: func() time.Time { return exampleAt.Add(time.Hour) }})
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return c
}

// build is what Send puts on the wire for one conversion.
func build(c *Client, conv conversions.Conversion) (string, error) {
	ev, err := c.buildEvent(conv, c.now())
	if err != nil {
		return "", err
	}
	testID := ""
	if c.cfg.TestMode {
		testID = c.cfg.TestID
	}
	b, err := encodeBody(testID, []event{ev})
	return string(b), err
}

// The minimal v3 example of docs/contracts/ad-platforms.md §6.2, with what a Conversion carries (no
// products, item_count or screen size) and ip_address hashed.
func TestPayloadSpecExample(t *testing.T) {
	c := testClient(t, Config{TestMode: true, TestID: "t2_test_abc"})
	got, err := build(c, conversions.Conversion{
		DedupID: "ord_123", EventName: "Purchase", OccurredAt: exampleAt,
		HasValue: true, Value: 42.5, Currency: "USD",
		PageURL: "https://shop.example/thanks?a=1&b=2",
		User:    conversions.User{Email: "  Buyer@Example.COM ", IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11)"},
		Clicks:  conversions.Clicks{RdtCid: "cid-123", RdtUUID: "1767000000000.3f1c"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"data":{"test_id":"t2_test_abc","events":[{` +
		`"event_at":1767225600000,"action_source":"WEBSITE","event_source_url":"https://shop.example/thanks?a=1&b=2",` +
		`"click_id":"cid-123","type":{"tracking_type":"PURCHASE"},` +
		`"user":{"email":"6a6c26195c3682faa816966af789717c3bfa834eee6c599d667d2b3429c27cfd",` +
		`"ip_address":"fec52565aa0cf18f57d7cf5b3ac728503b8992d2d6f7d46da1d1201090902b02",` +
		`"user_agent":"Mozilla/5.0 (X11)","uuid":"1767000000000.3f1c"},` +
		`"metadata":{"conversion_id":"ord_123","currency":"USD","value":42.5}}]}}`
	if got != want {
		t.Fatalf("body\n got %s\nwant %s", got, want)
	}
}

func TestPayloadIdentifiers(t *testing.T) {
	live := testClient(t, Config{DefaultPhoneCountry: "1"})
	noCountry := testClient(t, Config{})
	f := func(c *Client, u conversions.User, wantUser string) {
		t.Helper()
		got, err := build(c, conversions.Conversion{DedupID: "d1", EventName: "SIGN_UP", OccurredAt: exampleAt, User: u})
		if err != nil {
			t.Fatalf("%+v: %v", u, err)
		}
		want := `{"data":{"events":[{"event_at":1767225600000,"action_source":"WEBSITE","type":{"tracking_type":"SIGN_UP"},` +
			`"user":` + wantUser + `,"metadata":{"conversion_id":"d1"}}]}}`
		if got != want {
			t.Fatalf("%+v\n got %s\nwant %s", u, got, want)
		}
	}
	// docs/contracts/ad-platforms.md §1.2 vectors: trim + lower-case email; E.164 phone with '+'.
	f(live, conversions.User{Email: "John_Smith@gmail.com"},
		`{"email":"62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"}`)
	f(live, conversions.User{Phone: "(650)555-1212"},
		`{"phone_number":"1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8"}`)
	f(noCountry, conversions.User{Phone: "+44 7700 900123"},
		`{"phone_number":"a8acc3a90a7b4e4dc65e93db9240ed26523050ef754d63b75b5161de76781436"}`)
	f(testClient(t, Config{DefaultPhoneCountry: "44"}), conversions.User{Phone: "07700 900123"},
		`{"phone_number":"a8acc3a90a7b4e4dc65e93db9240ed26523050ef754d63b75b5161de76781436"}`)
	// A national number with no default country is not sent under a guess.
	f(noCountry, conversions.User{Phone: "07700 900123", ExternalID: " user-42 "},
		`{"external_id":"6d894aa3ee802549d7f340e7c1cf0d1c1cb14cd84f768d92ffaa6785337c4997"}`)
	// Digests pass through lower-cased, never hashed twice; empties are absent.
	f(live, conversions.User{Email: "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F", Phone: "  ", FirstName: "Mary"},
		`{"email":"62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"}`)
	// IPs are hashed in canonical form; garbage is dropped.
	f(live, conversions.User{IP: " 2001:DB8:0:0::1 ", Email: "x@y.z"},
		`{"email":"`+sha("x@y.z")+`","ip_address":"5afd19e856d1c18d17d600dfd2b5f534992333985e126c2a951047102c1ed536"}`)
	f(live, conversions.User{IP: "::ffff:203.0.113.7"},
		`{"ip_address":"fec52565aa0cf18f57d7cf5b3ac728503b8992d2d6f7d46da1d1201090902b02"}`)
	f(live, conversions.User{IP: "unknown", ExternalID: "user-42", UserAgent: "UA"},
		`{"external_id":"6d894aa3ee802549d7f340e7c1cf0d1c1cb14cd84f768d92ffaa6785337c4997","user_agent":"UA"}`)
}

func TestPayloadTypesValueConsent(t *testing.T) {
	f := func(cfg Config, conv conversions.Conversion, wantType, wantUser, wantMeta string) {
		t.Helper()
		conv.DedupID, conv.OccurredAt = "d1", exampleAt
		conv.Clicks.RdtCid = "c"
		got, err := build(testClient(t, cfg), conv)
		if err != nil {
			t.Fatalf("%+v: %v", conv, err)
		}
		want := `{"data":{"events":[{"event_at":1767225600000,"action_source":"WEBSITE","click_id":"c",` +
			`"type":` + wantType + `,"user":` + wantUser + `,"metadata":` + wantMeta + `}]}}`
		if got != want {
			t.Fatalf("%+v\n got %s\nwant %s", conv, got, want)
		}
	}
	f(Config{}, conversions.Conversion{EventName: "AddToCart", HasValue: true, Value: 0, Currency: "eur"},
		`{"tracking_type":"ADD_TO_CART"}`, `{}`, `{"conversion_id":"d1","currency":"EUR","value":0}`)
	// Value is not allowed on PAGE_VISIT: left out, not refused.
	f(Config{}, conversions.Conversion{EventName: "page visit", HasValue: true, Value: 3, Currency: "USD"},
		`{"tracking_type":"PAGE_VISIT"}`, `{}`, `{"conversion_id":"d1"}`)
	f(Config{}, conversions.Conversion{EventName: "Subscription <Started>"},
		`{"tracking_type":"CUSTOM","custom_event_name":"Subscription <Started>"}`, `{}`, `{"conversion_id":"d1"}`)
	// LDU: the configured default for unknown consent, lifted by granted.
	ldu := Config{LimitedDataUse: true}
	f(ldu, conversions.Conversion{EventName: "Lead", User: conversions.User{Country: "us", State: "ca"}},
		`{"tracking_type":"LEAD"}`, `{"data_processing_options":{"modes":["LDU"],"country":"US","region":"US-CA"}}`, `{"conversion_id":"d1"}`)
	f(ldu, conversions.Conversion{EventName: "Lead", User: conversions.User{Country: "US", State: "California"}},
		`{"tracking_type":"LEAD"}`, `{"data_processing_options":{"modes":["LDU"],"country":"US"}}`, `{"conversion_id":"d1"}`)
	f(ldu, conversions.Conversion{EventName: "Lead", Consent: conversions.ConsentGranted, User: conversions.User{Country: "US"}},
		`{"tracking_type":"LEAD"}`, `{}`, `{"conversion_id":"d1"}`)
	f(Config{}, conversions.Conversion{EventName: "Lead", User: conversions.User{Country: "US", State: "CA"}},
		`{"tracking_type":"LEAD"}`, `{}`, `{"conversion_id":"d1"}`)
	// event_source_url is for WEBSITE only.
	got, err := build(testClient(t, Config{ActionSource: "app"}), conversions.Conversion{
		DedupID: "d1", EventName: "Purchase", OccurredAt: exampleAt, PageURL: "https://x.example/", Clicks: conversions.Clicks{RdtCid: "c"},
	})
	if err != nil || strings.Contains(got, "event_source_url") || !strings.Contains(got, `"action_source":"APP"`) {
		t.Fatalf("app source: %s %v", got, err)
	}
}

func TestPayloadRefusals(t *testing.T) {
	now := exampleAt.Add(time.Hour)
	f := func(cfg Config, conv conversions.Conversion, wantErr string) {
		t.Helper()
		_, err := build(testClient(t, cfg), conv)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("%+v: got error %v, want %q", conv, err, wantErr)
		}
	}
	ok := conversions.Conversion{DedupID: "d1", EventName: "Purchase", OccurredAt: exampleAt, Clicks: conversions.Clicks{RdtCid: "c"}}
	with := func(edit func(*conversions.Conversion)) conversions.Conversion {
		c := ok
		edit(&c)
		return c
	}
	f(Config{}, with(func(c *conversions.Conversion) { c.Consent = conversions.ConsentDenied }), "consent denied")
	f(Config{}, with(func(c *conversions.Conversion) { c.DedupID = " " }), "dedup_id: required")
	f(Config{}, with(func(c *conversions.Conversion) { c.OccurredAt = time.Time{} }), "occurred_at: required")
	f(Config{}, with(func(c *conversions.Conversion) { c.OccurredAt = now.Add(-MaxAge) }), "less than 168h0m0s old")
	f(Config{}, with(func(c *conversions.Conversion) { c.OccurredAt = now.Add(-MaxAge + 30*time.Second) }), "less than 168h0m0s old")
	f(Config{}, with(func(c *conversions.Conversion) { c.OccurredAt = now.Add(MaxFuture + time.Second) }), "in the future")
	f(Config{}, with(func(c *conversions.Conversion) { c.EventName = "" }), "event_name: required")
	f(Config{}, with(func(c *conversions.Conversion) { c.EventName = "Custom" }), "custom event's own name")
	f(Config{}, with(func(c *conversions.Conversion) { c.EventName = strings.Repeat("x", 65) }), "65 characters")
	f(Config{}, with(func(c *conversions.Conversion) { c.Clicks = conversions.Clicks{}; c.User.Email = "  " }), "no attribution signal")
	f(Config{}, with(func(c *conversions.Conversion) { c.HasValue, c.Value, c.Currency = true, 1, "dollars" }), "currency")
	f(Config{}, with(func(c *conversions.Conversion) { c.HasValue, c.Value, c.Currency = true, math.NaN(), "USD" }), "value")
	f(Config{}, with(func(c *conversions.Conversion) { c.HasValue, c.Value, c.Currency = true, -1, "USD" }), "value")
	f(Config{LimitedDataUse: true}, ok, "limited data use needs the user's country")

	// Just inside the windows is fine.
	for _, at := range []time.Time{now.Add(-MaxAge + ageMargin + time.Second), now.Add(MaxFuture)} {
		if _, err := build(testClient(t, Config{}), with(func(c *conversions.Conversion) { c.OccurredAt = at })); err != nil {
			t.Fatalf("at %s: %v", at, err)
		}
	}
}

func sha(s string) string { return hashing.SHA256Hex(s) }
