package googleads

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
	"github.com/hogsend/hogsend-proxy/internal/fakeads"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/googleadsfake"
)

var testNow = time.Date(2025, 1, 2, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return testNow }

// setup starts a strict fake and a client configured against it.
func setup(t *testing.T, edit func(*Config), opts ...googleadsfake.Option) (*Client, *googleadsfake.Server) {
	t.Helper()
	fake := googleadsfake.New(append([]googleadsfake.Option{googleadsfake.WithClock(clock)}, opts...)...)
	t.Cleanup(fake.Close)
	cfg := Config{
		CustomerID:       "123-123-1234",
		ConversionAction: googleadsfake.DefaultConversionActionID,
		DeveloperToken:   googleadsfake.DefaultDeveloperToken,
		ClientID:         googleadsfake.DefaultClientID,
		ClientSecret:     googleadsfake.DefaultClientSecret,
		RefreshToken:     googleadsfake.DefaultRefreshToken,
		TokenURL:         fake.TokenURL(),
		BaseURL:          fake.URL,
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg, conversions.ClientOptions{HTTP: fake.Client(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	return c, fake
}

func batch(n int) []conversions.Conversion {
	b := make([]conversions.Conversion, n)
	for i := range b {
		b[i] = destinationtest.Conversion(i, "Purchase", testNow.Add(-24*time.Hour))
		// The documented Gmail address, to see its dots removed before hashing.
		b[i].User.Email = "John.Smith@gmail.com"
	}
	return b
}

func classes(out []conversions.Outcome) string {
	s := make([]string, len(out))
	for i, o := range out {
		s[i] = o.Class.String()
	}
	return strings.Join(s, ",")
}

func wantClasses(t *testing.T, out []conversions.Outcome, want string) {
	t.Helper()
	if got := classes(out); got != want {
		t.Fatalf("classes %s, want %s; outcomes %+v", got, want, out)
	}
}

func TestDestinationBasics(t *testing.T) {
	c, _ := setup(t, nil)
	if c.Name() != "google_ads" || c.MaxBatch() != 2000 {
		t.Fatalf("name %q, max batch %d", c.Name(), c.MaxBatch())
	}
	if _, err := New(Config{}, conversions.ClientOptions{}); err == nil || !strings.Contains(err.Error(), "customer_id: required") {
		t.Fatalf("New with an empty config: %v", err)
	}
}

func TestHappyBatchIsCounted(t *testing.T) {
	c, fake := setup(t, func(cfg *Config) { cfg.LoginCustomerID = "567-567-5678" }, googleadsfake.WithLoginCustomerID("5675675678"))
	out := c.Send(context.Background(), batch(3))
	wantClasses(t, out, "delivered,delivered,delivered")
	if out[0].Status != 200 || fake.Ledger.Unique() != 3 || len(fake.Rejections()) != 0 {
		t.Fatalf("status %d, ledger %d, rejections %+v", out[0].Status, fake.Ledger.Unique(), fake.Rejections())
	}
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want one per Send", len(reqs))
	}
	r := reqs[0]
	if r.Path != "/v24/customers/1231231234:uploadClickConversions" ||
		r.Header.Get("developer-token") != "DEVTOKEN" || r.Header.Get("login-customer-id") != "5675675678" ||
		!strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ya29.") || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s %v", r.Path, r.Header)
	}
	var body struct {
		Conversions []struct {
			OrderID            string `json:"orderId"`
			ConversionDateTime string `json:"conversionDateTime"`
			UserIdentifiers    []map[string]string
		} `json:"conversions"`
		PartialFailure bool `json:"partialFailure"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	first := body.Conversions[0]
	if !body.PartialFailure || first.OrderID != destinationtest.Conversion(0, "Purchase", testNow.Add(-24*time.Hour)).DedupID || first.ConversionDateTime != "2025-01-01 12:00:00+00:00" ||
		first.UserIdentifiers[0]["hashedEmail"] != "3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586" ||
		first.UserIdentifiers[1]["hashedPhoneNumber"] != "1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8" {
		t.Fatalf("body %s", r.Body)
	}
}

func TestSameDedupIDCountedOnce(t *testing.T) {
	c, fake := setup(t, nil)
	for i := 0; i < 2; i++ {
		wantClasses(t, c.Send(context.Background(), []conversions.Conversion{destinationtest.Conversion(7, "Purchase", testNow.Add(-24*time.Hour))}), "delivered")
	}
	if fake.Ledger.Unique() != 1 || fake.Ledger.Duplicates() != 1 {
		t.Fatalf("unique %d, duplicates %d", fake.Ledger.Unique(), fake.Ledger.Duplicates())
	}
	// The same conversion twice in one batch goes once: Google would
	// refuse both copies as DUPLICATE_ORDER_ID.
	out := c.Send(context.Background(), []conversions.Conversion{destinationtest.Conversion(8, "Purchase", testNow.Add(-24*time.Hour)), destinationtest.Conversion(8, "Purchase", testNow.Add(-24*time.Hour)), destinationtest.Conversion(9, "Purchase", testNow.Add(-24*time.Hour))})
	wantClasses(t, out, "delivered,delivered,delivered")
	if fake.Ledger.Unique() != 3 || strings.Count(string(fake.Requests()[2].Body), destinationtest.Conversion(8, "Purchase", testNow.Add(-24*time.Hour)).DedupID) != 1 {
		t.Fatalf("ledger %d; body %s", fake.Ledger.Unique(), fake.Requests()[2].Body)
	}
}

func TestScriptedFaults(t *testing.T) {
	f := func(name string, faults []fakeads.Fault, n int, want string, check func([]conversions.Outcome)) {
		t.Helper()
		c, fake := setup(t, nil)
		fake.Script.Push(faults...)
		out := c.Send(context.Background(), batch(n))
		wantClasses(t, out, want)
		if check != nil {
			check(out)
		}
	}
	f("429 with Retry-After", []fakeads.Fault{googleadsfake.ResourceExhaustedFault("7", "")}, 2, "retry,retry", func(o []conversions.Outcome) {
		if o[0].RetryAfter != 7*time.Second || o[0].Status != 429 {
			t.Fatalf("%+v", o[0])
		}
	})
	f("429 with quota retryDelay", []fakeads.Fault{googleadsfake.ResourceExhaustedFault("", "60s")}, 1, "retry", func(o []conversions.Outcome) {
		if o[0].RetryAfter != time.Minute {
			t.Fatalf("%+v", o[0])
		}
	})
	f("503", []fakeads.Fault{googleadsfake.UnavailableFault()}, 2, "retry,retry", nil)
	f("500 without a body", []fakeads.Fault{{Status: 500}}, 1, "retry", nil)
	f("permission denied", []fakeads.Fault{googleadsfake.PermissionDeniedFault()}, 2, "halt,halt", func(o []conversions.Outcome) {
		if !strings.Contains(o[0].Reason, "USER_PERMISSION_DENIED") {
			t.Fatalf("%+v", o[0])
		}
	})
	f("401 twice: refreshed once, then halt", []fakeads.Fault{googleadsfake.UnauthenticatedFault(), googleadsfake.UnauthenticatedFault()}, 1, "halt", nil)
	f("401 once: refreshed and delivered", []fakeads.Fault{googleadsfake.UnauthenticatedFault()}, 1, "delivered", nil)
	f("401 for 2-step verification: no refresh helps", []fakeads.Fault{googleadsfake.RPCFault(401, "UNAUTHENTICATED", "m",
		googleadsfake.ErrorCode{Kind: "authenticationError", Value: "TWO_STEP_VERIFICATION_NOT_ENROLLED"})}, 1, "halt", nil)
	f("unsupported version", []fakeads.Fault{googleadsfake.RPCFault(400, "INVALID_ARGUMENT", "sunset",
		googleadsfake.ErrorCode{Kind: "requestError", Value: "UNSUPPORTED_VERSION"})}, 1, "halt", nil)
	f("400 for the whole batch", []fakeads.Fault{googleadsfake.RPCFault(400, "INVALID_ARGUMENT", "Request contains an invalid argument.")}, 3,
		"rejected,rejected,rejected", func(o []conversions.Outcome) {
			if !o[0].WholeBatch {
				t.Fatalf("%+v", o[0])
			}
		})
	f("partial failure, one outcome per row", []fakeads.Fault{googleadsfake.PartialFailureFault(5, map[int]googleadsfake.ErrorCode{
		1: googleadsfake.UploadError("TOO_RECENT_CONVERSION_ACTION"),
		2: googleadsfake.UploadError("CLICK_CONVERSION_ALREADY_EXISTS"),
		3: googleadsfake.UploadError("INVALID_USER_IDENTIFIER"),
		4: {Kind: "databaseError", Value: "CONCURRENT_MODIFICATION"},
	})}, 5, "delivered,retry,delivered,rejected,retry", func(o []conversions.Outcome) {
		if o[1].RetryAfter != 6*time.Hour || !strings.Contains(o[3].Reason, "INVALID_USER_IDENTIFIER") {
			t.Fatalf("%+v", o)
		}
	})
	f("unknown conversion action halts", []fakeads.Fault{googleadsfake.PartialFailureFault(2, map[int]googleadsfake.ErrorCode{
		0: googleadsfake.UploadError("NO_CONVERSION_ACTION_FOUND"),
	})}, 2, "halt,delivered", nil)
}

func TestRealRowErrorsFromTheFake(t *testing.T) {
	// A click the fake knows is 1 hour old, whose time the event did not
	// carry: Google's TOO_RECENT_EVENT, retried after 6 hours.
	c, fake := setup(t, nil)
	fresh := destinationtest.Conversion(1, "Purchase", testNow.Add(-24*time.Hour))
	fresh.Clicks.At = time.Time{}
	fresh.OccurredAt = testNow.Add(-30 * time.Minute)
	fake.RegisterClick(fresh.Clicks.Gclid, testNow.Add(-time.Hour))
	missing := destinationtest.Conversion(2, "Purchase", testNow.Add(-24*time.Hour))
	missing.EventName = "424242" // a conversion action that does not exist
	out := c.Send(context.Background(), []conversions.Conversion{destinationtest.Conversion(0, "Purchase", testNow.Add(-24*time.Hour)), fresh, missing})
	wantClasses(t, out, "delivered,retry,halt")
	if out[1].RetryAfter != 6*time.Hour || fake.Ledger.Unique() != 1 {
		t.Fatalf("%+v, ledger %d", out, fake.Ledger.Unique())
	}
}

func TestTokenLifecycle(t *testing.T) {
	c, fake := setup(t, nil)
	ctx := context.Background()
	wantClasses(t, c.Send(ctx, batch(1)), "delivered")
	wantClasses(t, c.Send(ctx, batch(2)), "delivered,delivered")
	if fake.TokensIssued() != 1 {
		t.Fatalf("token not cached: %d issued", fake.TokensIssued())
	}
	tr := fake.TokenRequests()[0]
	if tr.Method != "POST" || tr.Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
		!strings.Contains(string(tr.Body), "grant_type=refresh_token") {
		t.Fatalf("token request %+v %s", tr.Header, tr.Body)
	}

	// Google expires the token early: one 401, one refresh, one retry.
	fake.ExpireTokens()
	wantClasses(t, c.Send(ctx, []conversions.Conversion{destinationtest.Conversion(5, "Purchase", testNow.Add(-24*time.Hour))}), "delivered")
	reqs := fake.Requests()
	if fake.TokensIssued() != 2 || len(reqs) != 4 || reqs[2].Status != 401 || reqs[3].Status != 200 {
		t.Fatalf("tokens %d, requests %d", fake.TokensIssued(), len(reqs))
	}
	if string(reqs[2].Body) != string(reqs[3].Body) {
		t.Fatal("the retry after refresh must send the same body")
	}

	// Token endpoint trouble: 503 is transient, a revoked grant is not.
	fake.ExpireTokens()
	fake.TokenScript.Push(fakeads.Fault{Status: 503, Header: map[string]string{"Retry-After": "3"}})
	out := c.Send(ctx, []conversions.Conversion{destinationtest.Conversion(6, "Purchase", testNow.Add(-24*time.Hour))})
	wantClasses(t, out, "retry")
	if out[0].RetryAfter != 3*time.Second {
		t.Fatalf("%+v", out[0])
	}
	fake.RevokeRefreshToken()
	out = c.Send(ctx, []conversions.Conversion{destinationtest.Conversion(6, "Purchase", testNow.Add(-24*time.Hour))})
	wantClasses(t, out, "halt")
	if !strings.Contains(out[0].Reason, "invalid_grant") {
		t.Fatalf("%+v", out[0])
	}
}

func TestTokenExpiresByClock(t *testing.T) {
	now := testNow
	fake := googleadsfake.New(googleadsfake.WithClock(func() time.Time { return now }), googleadsfake.WithTokenTTL(10*time.Minute))
	t.Cleanup(fake.Close)
	c, err := New(Config{
		CustomerID: googleadsfake.DefaultCustomerID, ConversionAction: googleadsfake.DefaultConversionActionID,
		DeveloperToken: googleadsfake.DefaultDeveloperToken, ClientID: googleadsfake.DefaultClientID,
		ClientSecret: googleadsfake.DefaultClientSecret, RefreshToken: googleadsfake.DefaultRefreshToken,
		TokenURL: fake.TokenURL(), BaseURL: fake.URL,
	}, conversions.ClientOptions{HTTP: fake.Client(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	wantClasses(t, c.Send(context.Background(), batch(1)), "delivered")
	now = now.Add(9*time.Minute + 30*time.Second) // within a minute of expiry
	wantClasses(t, c.Send(context.Background(), []conversions.Conversion{destinationtest.Conversion(3, "Purchase", testNow.Add(-24*time.Hour))}), "delivered")
	if fake.TokensIssued() != 2 || len(fake.Requests()) != 2 {
		t.Fatalf("want a refresh before expiry, not a 401: tokens %d, requests %d", fake.TokensIssued(), len(fake.Requests()))
	}
}

func TestRetiredVersionHalts(t *testing.T) {
	c, fake := setup(t, func(cfg *Config) { cfg.APIVersion = "v19" })
	out := c.Send(context.Background(), batch(2))
	wantClasses(t, out, "halt,halt")
	if out[0].Status != 404 || fake.Rejections()[0].Code != "requestError.UNSUPPORTED_VERSION" {
		t.Fatalf("%+v %+v", out[0], fake.Rejections())
	}
}

func TestWrongAccountHalts(t *testing.T) {
	c, _ := setup(t, func(cfg *Config) { cfg.CustomerID = "999-999-9999" })
	wantClasses(t, c.Send(context.Background(), batch(1)), "halt")
	c, _ = setup(t, func(cfg *Config) { cfg.DeveloperToken = "wrong" })
	wantClasses(t, c.Send(context.Background(), batch(1)), "halt")
}

func TestValidateOnlyRecordsNothing(t *testing.T) {
	c, fake := setup(t, func(cfg *Config) { cfg.ValidateOnly = true })
	pii := destinationtest.Conversion(2, "Purchase", testNow.Add(-24*time.Hour))
	pii.DedupID = "john@example.com" // Google refuses PII in orderId, even when only validating
	out := c.Send(context.Background(), []conversions.Conversion{destinationtest.Conversion(0, "Purchase", testNow.Add(-24*time.Hour)), pii, destinationtest.Conversion(1, "Purchase", testNow.Add(-24*time.Hour))})
	wantClasses(t, out, "delivered,rejected,delivered")
	if !strings.Contains(out[1].Reason, "ORDER_ID_CONTAINS_PII") {
		t.Fatalf("%+v", out[1])
	}
	if fake.Ledger.Unique() != 0 || !strings.Contains(string(fake.Requests()[0].Body), `"validateOnly":true`) {
		t.Fatalf("ledger %d, body %s", fake.Ledger.Unique(), fake.Requests()[0].Body)
	}
}

func TestInvalidConversionsAreNotSent(t *testing.T) {
	c, fake := setup(t, nil)
	noIDs := destinationtest.Conversion(1, "Purchase", testNow.Add(-24*time.Hour))
	noIDs.Clicks, noIDs.User = conversions.Clicks{}, conversions.User{FirstName: "Mary", IP: "203.0.113.9"}
	denied := destinationtest.Conversion(2, "Purchase", testNow.Add(-24*time.Hour))
	denied.Consent = conversions.ConsentDenied
	old := destinationtest.Conversion(3, "Purchase", testNow.Add(-24*time.Hour))
	old.OccurredAt, old.Clicks.At = testNow.Add(-91*24*time.Hour), time.Time{}
	future := destinationtest.Conversion(4, "Purchase", testNow.Add(-24*time.Hour))
	future.OccurredAt = testNow.Add(time.Hour)
	recent := destinationtest.Conversion(5, "Purchase", testNow.Add(-24*time.Hour))
	recent.Clicks.At, recent.OccurredAt = testNow.Add(-2*time.Hour), testNow.Add(-time.Hour)
	before := destinationtest.Conversion(6, "Purchase", testNow.Add(-24*time.Hour))
	before.OccurredAt = before.Clicks.At.Add(-time.Minute)
	oldClick := destinationtest.Conversion(7, "Purchase", testNow.Add(-24*time.Hour))
	oldClick.Clicks.At = testNow.Add(-100 * 24 * time.Hour)
	emptyHash := destinationtest.Conversion(8, "Purchase", testNow.Add(-24*time.Hour))
	emptyHash.Clicks = conversions.Clicks{}
	emptyHash.User = conversions.User{Email: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
	emptyHash.DedupID = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	out := c.Send(context.Background(), []conversions.Conversion{destinationtest.Conversion(0, "Purchase", testNow.Add(-24*time.Hour)), noIDs, denied, old, future, recent, before, oldClick, emptyHash, destinationtest.Conversion(9, "Purchase", testNow.Add(-24*time.Hour))})
	wantClasses(t, out, "delivered,rejected,rejected,rejected,rejected,retry,rejected,rejected,rejected,delivered")
	for i, want := range map[int]string{1: "nothing Google can match", 2: "consent denied", 3: "click-through window", 4: "in the future",
		5: "TOO_RECENT_EVENT", 6: "CONVERSION_PRECEDES_EVENT", 7: "click is 2400h0m0s old", 8: "sha256 of an empty string"} {
		if !strings.Contains(out[i].Reason, want) || out[i].Status != 0 {
			t.Fatalf("outcome %d: %+v, want reason with %q", i, out[i], want)
		}
	}
	if out[5].RetryAfter != 4*time.Hour {
		t.Fatalf("retry after %s, want the 4h left of the 6h wait", out[5].RetryAfter)
	}
	body := string(fake.Requests()[0].Body)
	if strings.Count(body, `"orderId"`) != 2 || fake.Ledger.Unique() != 2 {
		t.Fatalf("sent %s", body)
	}
	// Nothing sendable: no request at all.
	wantClasses(t, c.Send(context.Background(), []conversions.Conversion{noIDs}), "rejected")
	if len(fake.Requests()) != 1 {
		t.Fatalf("%d requests", len(fake.Requests()))
	}
}

func TestOversizeBatch(t *testing.T) {
	c, fake := setup(t, nil)
	out := c.Send(context.Background(), batch(2001))
	if len(out) != 2001 || out[0].Class != conversions.Rejected || !out[0].WholeBatch || len(fake.Requests()) != 0 {
		t.Fatalf("%+v, %d requests", out[0], len(fake.Requests()))
	}
	// At the limit it goes through, in one request.
	out = c.Send(context.Background(), batch(2000))
	if out[1999].Class != conversions.Delivered || fake.Ledger.Unique() != 2000 || len(fake.Requests()) != 1 {
		t.Fatalf("%+v, ledger %d", out[1999], fake.Ledger.Unique())
	}
}

func TestTransportFailureRetries(t *testing.T) {
	c, fake := setup(t, nil)
	wantClasses(t, c.Send(context.Background(), batch(1)), "delivered") // caches a token
	fake.Close()
	out := c.Send(context.Background(), batch(2))
	wantClasses(t, out, "retry,retry")
	if !strings.HasPrefix(out[0].Reason, "transport: ") || out[0].Status != 0 {
		t.Fatalf("%+v", out[0])
	}
}

func TestCancelledContextRetries(t *testing.T) {
	c, fake := setup(t, nil)
	fake.Script.Push(fakeads.Fault{Status: 200, Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	wantClasses(t, c.Send(ctx, batch(1)), "retry")
}

func TestConsentMapping(t *testing.T) {
	c, fake := setup(t, nil)
	granted := destinationtest.Conversion(0, "Purchase", testNow.Add(-24*time.Hour))
	granted.Consent = conversions.ConsentGranted
	unknown := destinationtest.Conversion(1, "Purchase", testNow.Add(-24*time.Hour))
	wantClasses(t, c.Send(context.Background(), []conversions.Conversion{granted, unknown}), "delivered,delivered")
	var body struct {
		Conversions []struct {
			Consent *struct{ AdUserData, AdPersonalization string } `json:"consent"`
		} `json:"conversions"`
	}
	if err := json.Unmarshal(fake.Requests()[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if cs := body.Conversions[0].Consent; cs == nil || cs.AdUserData != "GRANTED" || cs.AdPersonalization != "GRANTED" || body.Conversions[1].Consent != nil {
		t.Fatalf("%s", fake.Requests()[0].Body)
	}
}

func TestHTTPStatusIsReported(t *testing.T) {
	c, fake := setup(t, nil)
	fake.Script.Push(fakeads.Fault{Status: http.StatusConflict, Body: `{"error":{"code":409,"status":"ABORTED"}}`})
	out := c.Send(context.Background(), batch(1))
	if out[0].Class != conversions.Rejected || out[0].Status != 409 || out[0].WholeBatch {
		t.Fatalf("%+v", out[0])
	}
}

// TestTransportErrorHasNoSecret: neither a failed token refresh nor a
// failed upload puts the OAuth client secret, the refresh token, the
// developer token or the access token in the recorded reason.
func TestTransportErrorHasNoSecret(t *testing.T) {
	secrets := []string{googleadsfake.DefaultClientSecret, googleadsfake.DefaultRefreshToken, googleadsfake.DefaultDeveloperToken}
	f := func(what string, out []conversions.Outcome, secrets []string) {
		t.Helper()
		wantClasses(t, out, "retry")
		for _, s := range secrets {
			if s != "" && strings.Contains(out[0].Reason, s) {
				t.Fatalf("%s: reason %q holds the secret %q", what, out[0].Reason, s)
			}
		}
	}
	c, fake := setup(t, nil)
	fake.Close()
	f("token refresh", c.Send(context.Background(), batch(1)), secrets)

	c, fake = setup(t, nil)
	wantClasses(t, c.Send(context.Background(), batch(1)), "delivered") // caches a token
	access := c.tokens.token
	fake.Close()
	f("upload", c.Send(context.Background(), batch(1)), append(secrets, access))
}
