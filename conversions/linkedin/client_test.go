package linkedin_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
	"github.com/hogsend/hogsend-proxy/conversions/linkedin"
	"github.com/hogsend/hogsend-proxy/internal/fakeads"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/linkedinfake"
)

var now = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

func newFake(t *testing.T, opts ...linkedinfake.Option) *linkedinfake.Server {
	t.Helper()
	s := linkedinfake.New(append([]linkedinfake.Option{linkedinfake.WithClock(clock)}, opts...)...)
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, fake *linkedinfake.Server, edit ...func(*linkedin.Config)) *linkedin.Client {
	t.Helper()
	cfg := linkedin.Config{
		ConversionURN: "urn:lla:llaPartnerConversion:104012",
		AccessToken:   linkedinfake.DefaultToken,
		Version:       "202603",
		BaseURL:       fake.URL,
	}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := linkedin.New(cfg, conversions.ClientOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func batchOf(n int) []conversions.Conversion {
	b := make([]conversions.Conversion, n)
	for i := range b {
		b[i] = destinationtest.Conversion(i, "PURCHASE", now.Add(-time.Hour))
	}
	return b
}

func classes(out []conversions.Outcome) string {
	s := make([]string, len(out))
	for i, o := range out {
		s[i] = o.Class.String()
		if o.WholeBatch {
			s[i] += "/whole"
		}
	}
	return strings.Join(s, ",")
}

func TestDestination(t *testing.T) {
	c := newClient(t, newFake(t), func(cfg *linkedin.Config) { cfg.MaxBatch = 0 })
	if c.Name() != "linkedin" || c.MaxBatch() != 5000 {
		t.Fatalf("name %q max %d", c.Name(), c.MaxBatch())
	}
	if _, err := linkedin.New(linkedin.Config{}, conversions.ClientOptions{}); err == nil ||
		!strings.Contains(err.Error(), "conversion_urn: required") {
		t.Fatalf("New with empty config: %v", err)
	}
}

func TestHappyBatch(t *testing.T) {
	fake := newFake(t)
	c := newClient(t, fake)
	out := c.Send(context.Background(), batchOf(3))
	if got := classes(out); got != "delivered,delivered,delivered" {
		t.Fatalf("outcomes %s (%+v)", got, out)
	}
	if out[0].Status != 200 {
		t.Fatalf("status %d", out[0].Status)
	}
	if fake.Ledger.Unique() != 3 {
		t.Fatalf("ledger counted %d", fake.Ledger.Unique())
	}
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want one per Send", len(reqs))
	}
	h := reqs[0].Header
	for k, v := range map[string]string{
		"Authorization":             "Bearer " + linkedinfake.DefaultToken,
		"LinkedIn-Version":          "202603",
		"X-Restli-Protocol-Version": "2.0.0",
		"X-RestLi-Method":           "BATCH_CREATE",
		"Content-Type":              "application/json",
	} {
		if h.Get(k) != v {
			t.Fatalf("header %s = %q, want %q", k, h.Get(k), v)
		}
	}
	var body struct {
		Elements []struct {
			EventID string `json:"eventId"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(reqs[0].Body, &body); err != nil || len(body.Elements) != 3 || body.Elements[2].EventID != destinationtest.Conversion(2, "PURCHASE", now.Add(-time.Hour)).DedupID {
		t.Fatalf("body %s: %v", reqs[0].Body, err)
	}
}

func TestSingleCreate(t *testing.T) {
	fake := newFake(t)
	c := newClient(t, fake)
	out := c.Send(context.Background(), batchOf(1))
	if out[0].Class != conversions.Delivered || out[0].Status != 201 {
		t.Fatalf("%+v", out[0])
	}
	req := fake.Requests()[0]
	if req.Header.Get("X-RestLi-Method") != "" || !strings.HasPrefix(string(req.Body), `{"conversion":"urn:lla:llaPartnerConversion:104012",`) {
		t.Fatalf("single create sent as %q: %s", req.Header.Get("X-RestLi-Method"), req.Body)
	}
}

// Invalid conversions are rejected without being sent; the rest are sent.
func TestInvalidRowsNotSent(t *testing.T) {
	fake := newFake(t)
	c := newClient(t, fake)
	b := batchOf(5)
	b[1].User.Email, b[1].Clicks.LiFatID = "", "" // names alone: LinkedIn 422s
	b[2].OccurredAt = now.Add(-91 * 24 * time.Hour)
	b[3].Consent = conversions.ConsentDenied
	out := c.Send(context.Background(), b)
	if got := classes(out); got != "delivered,rejected,rejected,rejected,delivered" {
		t.Fatalf("outcomes %s", got)
	}
	for i, want := range map[int]string{1: "needs at least one user id", 2: "90-day window", 3: "consent: denied"} {
		if !strings.Contains(out[i].Reason, want) || out[i].Status != 0 || out[i].WholeBatch {
			t.Fatalf("row %d: %+v, want reason %q", i, out[i], want)
		}
	}
	if fake.Ledger.Unique() != 2 || len(fake.Requests()) != 1 {
		t.Fatalf("ledger %d, requests %d", fake.Ledger.Unique(), len(fake.Requests()))
	}
	if strings.Count(string(fake.Requests()[0].Body), `"eventId"`) != 2 {
		t.Fatalf("sent %s", fake.Requests()[0].Body)
	}

	// Nothing valid: nothing sent.
	out = c.Send(context.Background(), b[1:4])
	if got := classes(out); got != "rejected,rejected,rejected" || len(fake.Requests()) != 1 {
		t.Fatalf("outcomes %s, requests %d", got, len(fake.Requests()))
	}
}

func TestScriptedFaults(t *testing.T) {
	f := func(name string, fault fakeads.Fault, n int, want string, check func(out []conversions.Outcome)) {
		t.Helper()
		fake := newFake(t)
		fake.Script.Push(fault)
		out := newClient(t, fake).Send(context.Background(), batchOf(n))
		if got := classes(out); got != want {
			t.Fatalf("%s: outcomes %s, want %s (%+v)", name, got, want, out)
		}
		for _, o := range out {
			if o.Status != fault.Status {
				t.Fatalf("%s: status %d, want %d", name, o.Status, fault.Status)
			}
		}
		if check != nil {
			check(out)
		}
		if fake.Ledger.Unique() != 0 {
			t.Fatalf("%s: ledger counted a faulted request", name)
		}
	}
	f("429", linkedinfake.RateLimited(7), 2, "retry,retry", func(out []conversions.Outcome) {
		if out[0].RetryAfter != 7*time.Second || out[1].RetryAfter != 7*time.Second {
			t.Fatalf("retry after %v", out[0].RetryAfter)
		}
	})
	f("500", linkedinfake.ServerError(500), 1, "retry", nil)
	f("503", linkedinfake.ServerError(503), 2, "retry,retry", nil)
	f("revoked token", linkedinfake.RevokedToken(), 2, "halt,halt", func(out []conversions.Outcome) {
		if !strings.Contains(out[0].Reason, "REVOKED_ACCESS_TOKEN") {
			t.Fatalf("reason %q", out[0].Reason)
		}
	})
	f("invalid token", linkedinfake.InvalidToken(), 1, "halt", nil)
	f("access denied", linkedinfake.AccessDenied(), 1, "halt", nil)
	f("version sunset", linkedinfake.VersionSunset("202603"), 2, "halt,halt", func(out []conversions.Outcome) {
		if !strings.Contains(out[0].Reason, "NONEXISTENT_VERSION") {
			t.Fatalf("reason %q", out[0].Reason)
		}
	})
	f("422 naming a row", linkedinfake.Unprocessable("Index: 1, ERROR :: /user/userInfo/firstName :: field is required but not found and has no default value\n"),
		3, "retry,rejected,retry", func(out []conversions.Outcome) {
			if !strings.Contains(out[1].Reason, "/user/userInfo/firstName") {
				t.Fatalf("reason %q", out[1].Reason)
			}
		})
	f("422 naming nothing", linkedinfake.Unprocessable("payload invalid"), 2, "rejected/whole,rejected/whole", nil)
	f("422 single", linkedinfake.Unprocessable("Index: 0, ERROR :: /x :: y\n"), 1, "rejected", nil)
	f("partial statuses", linkedinfake.ElementStatuses(201, 400, 429, 409), 4, "delivered,rejected,retry,delivered", nil)
}

// Refusals the fake decides itself, from its own validation.
func TestFakeValidationAnswers(t *testing.T) {
	f := func(name string, fake *linkedinfake.Server, edit func(*linkedin.Config), n int, want string) []conversions.Outcome {
		t.Helper()
		var edits []func(*linkedin.Config)
		if edit != nil {
			edits = append(edits, edit)
		}
		out := newClient(t, fake, edits...).Send(context.Background(), batchOf(n))
		if got := classes(out); got != want {
			t.Fatalf("%s: outcomes %s, want %s (%+v)", name, got, want, out)
		}
		return out
	}
	f("wrong token", newFake(t), func(c *linkedin.Config) { c.AccessToken = "expired" }, 2, "halt,halt")
	f("sunset version", newFake(t, linkedinfake.WithInactiveVersions("202603")), nil, 1, "halt")
	f("rule not a CONVERSIONS_API rule", newFake(t, linkedinfake.WithConversionRules("999")), nil, 2, "halt,halt")
	f("base_url without the API", newFake(t), func(c *linkedin.Config) { c.BaseURL += "/v2" }, 1, "halt")

	// The fake's clock is 30 days ahead, so row 2 (in the client's window)
	// falls out of LinkedIn's: LinkedIn refuses the batch naming row 2,
	// which is rejected; the others are retried without it.
	late := newFake(t, linkedinfake.WithClock(func() time.Time { return now.Add(30 * 24 * time.Hour) }))
	b := batchOf(3)
	b[2].OccurredAt = now.Add(-80 * 24 * time.Hour)
	out := newClient(t, late).Send(context.Background(), b)
	if got := classes(out); got != "retry,retry,rejected" || !strings.Contains(out[2].Reason, "more than 90 days ago") {
		t.Fatalf("outcomes %s (%+v)", got, out)
	}
	if late.Ledger.Unique() != 0 {
		t.Fatal("a refused batch was counted")
	}
}

// When the sent rows are refused as a whole, they are marked WholeBatch
// and a row refused before sending keeps its own rejection: the dispatcher
// splits such a batch, and alone the invalid row is refused again.
func TestWholeBatchWithPreRejectedRows(t *testing.T) {
	fake := newFake(t)
	fake.Script.Push(linkedinfake.Unprocessable("payload invalid"))
	b := batchOf(3)
	b[1].DedupID = ""
	out := newClient(t, fake).Send(context.Background(), b)
	if got := classes(out); got != "rejected/whole,rejected,rejected/whole" || !strings.Contains(out[1].Reason, "dedup_id: required") {
		t.Fatalf("outcomes %s (%+v)", got, out)
	}
	// Alone, the invalid row is rejected for good.
	if out := newClient(t, fake).Send(context.Background(), b[1:2]); classes(out) != "rejected" {
		t.Fatalf("alone: %s", classes(out))
	}
}

func TestOversizeBatchNotSent(t *testing.T) {
	fake := newFake(t)
	c := newClient(t, fake, func(cfg *linkedin.Config) { cfg.MaxBatch = 2 })
	out := c.Send(context.Background(), batchOf(3))
	if got := classes(out); got != "rejected/whole,rejected/whole,rejected/whole" || len(fake.Requests()) != 0 {
		t.Fatalf("outcomes %s, requests %d", got, len(fake.Requests()))
	}
}
