package reddit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
	"github.com/hogsend/hogsend-proxy/internal/fakeads"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/redditfake"
)

var clientNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return clientNow }

// setup starts a strict fake and a client pointed at it.
func setup(t *testing.T, edit func(*Config), fakeOpts ...redditfake.Option) (*Client, *redditfake.Server) {
	t.Helper()
	fake := redditfake.New(append([]redditfake.Option{redditfake.WithClock(fixedClock)}, fakeOpts...)...)
	t.Cleanup(fake.Close)
	cfg := Config{PixelID: redditfake.DefaultPixelID, AccessToken: redditfake.DefaultToken, BaseURL: fake.URL}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg, conversions.ClientOptions{Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	return c, fake
}

// conv is the shared test conversion with Reddit's ids derived from id.
func conv(id string) conversions.Conversion {
	c := destinationtest.Conversion(0, "Purchase", clientNow.Add(-time.Hour))
	c.DedupID, c.User.ExternalID, c.Clicks.RdtCid = id, "u-"+id, "cid-"+id
	c.Consent = conversions.ConsentGranted
	return c
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

func TestName(t *testing.T) {
	c, _ := setup(t, nil)
	if c.Name() != "reddit" || c.MaxBatch() != 1000 {
		t.Fatalf("name %q max %d", c.Name(), c.MaxBatch())
	}
}

func TestSendHappyBatch(t *testing.T) {
	c, fake := setup(t, nil)
	stale := conv("stale")
	stale.OccurredAt = clientNow.Add(-MaxAge - time.Hour)
	noSignal := conv("nosignal")
	noSignal.User, noSignal.Clicks = conversions.User{FirstName: "Mary"}, conversions.Clicks{}
	out := c.Send(context.Background(), []conversions.Conversion{conv("a"), stale, conv("b"), noSignal, conv("c")})
	if got := classes(out); got != "delivered,rejected,delivered,rejected,delivered" {
		t.Fatalf("classes %s (%+v)", got, out)
	}
	if !strings.Contains(out[1].Reason, "168h0m0s") || !strings.Contains(out[3].Reason, "no attribution signal") {
		t.Fatalf("reasons %q / %q", out[1].Reason, out[3].Reason)
	}
	if out[0].Status != 200 || out[1].Status != 0 {
		t.Fatalf("statuses %d %d", out[0].Status, out[1].Status)
	}
	if fake.Ledger.Unique() != 3 || fmt.Sprint(fake.Ledger.Keys()) != "[a b c]" {
		t.Fatalf("ledger %v", fake.Ledger.Keys())
	}
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Path != "/api/v3/pixels/a2_abc123/conversion_events" || r.Header.Get("Authorization") != "Bearer "+redditfake.DefaultToken ||
		r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s %v", r.Path, r.Header)
	}
	var b struct {
		Data struct {
			Events []json.RawMessage `json:"events"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil || len(b.Data.Events) != 3 {
		t.Fatalf("body %s: %v", r.Body, err)
	}
	if want := `"phone_number":"1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8"`; !strings.Contains(string(r.Body), want) {
		t.Fatalf("body lacks %s: %s", want, r.Body)
	}
}

func TestSendScriptedFaults(t *testing.T) {
	invalid := `{"message":"There were 1 invalid conversion events. None were processed.",` +
		`"invalid_events":[{"error_message":"event_at timestamp must be less than 168h0m0s old","event":{"metadata":{"conversion_id":"b"}}}]}`
	f := func(fault fakeads.Fault, want string, wantAfter time.Duration, wantReason string) {
		t.Helper()
		c, fake := setup(t, nil)
		fake.Script.Push(fault)
		out := c.Send(context.Background(), []conversions.Conversion{conv("a"), conv("b")})
		if got := classes(out); got != want {
			t.Fatalf("%d: classes %s, want %s (%+v)", fault.Status, got, want, out)
		}
		for _, o := range out {
			if o.RetryAfter != wantAfter || o.Status != fault.Status {
				t.Fatalf("%d: outcome %+v, want retry after %s", fault.Status, o, wantAfter)
			}
		}
		if !strings.Contains(out[1].Reason, wantReason) {
			t.Fatalf("%d: reason %q lacks %q", fault.Status, out[1].Reason, wantReason)
		}
		if fake.Ledger.Unique() != 0 {
			t.Fatal("a fault counted conversions")
		}
	}
	f(fakeads.Fault{Status: 429, Header: map[string]string{"Retry-After": "7"}}, "retry,retry", 7*time.Second, "HTTP 429")
	f(fakeads.Fault{Status: 503, Header: map[string]string{"Retry-After": clientNow.Add(time.Minute).Format(http.TimeFormat)}}, "retry,retry", time.Minute, "HTTP 503")
	f(fakeads.Fault{Status: 500, Body: `{"message":"internal error"}`}, "retry,retry", 0, "internal error")
	f(fakeads.Fault{Status: 408}, "retry,retry", 0, "HTTP 408")
	f(fakeads.Fault{Status: 401, Body: "Authorization Required"}, "halt,halt", 0, "Authorization Required")
	f(fakeads.Fault{Status: 403, Body: `{"success":false,"error":{"reason":"UNAUTHORIZED","explanation":"JSON error unexpected type number on field events metadata value"}}`},
		"halt,halt", 0, "JSON error")
	f(fakeads.Fault{Status: 404}, "halt,halt", 0, "unknown pixel")
	f(fakeads.Fault{Status: 410}, "halt,halt", 0, "retired")
	// Reddit refuses the whole batch for one bad event: every event is
	// marked for splitting; the culprit's reason is its own.
	f(fakeads.Fault{Status: 400, Body: invalid}, "rejected/whole,rejected/whole", 0, "invalid event: event_at timestamp must be less than 168h0m0s old")
	f(fakeads.Fault{Status: 422, Body: `{"message":"unprocessable"}`}, "rejected/whole,rejected/whole", 0, "unprocessable")
	f(fakeads.Fault{Status: 200, Body: `{"data":{"message":"Successfully processed 0 conversion events."}}`}, "rejected/whole,rejected/whole", 0, "processed 0")
}

// The fake's own validation, not a script: what the platform itself refuses.
func TestSendPlatformRefusals(t *testing.T) {
	t.Run("wrong token halts", func(t *testing.T) {
		c, fake := setup(t, func(c *Config) { c.AccessToken = "revoked" })
		out := c.Send(context.Background(), []conversions.Conversion{conv("a")})
		if classes(out) != "halt" || out[0].Status != 401 || !strings.Contains(out[0].Reason, "UNAUTHORIZED") {
			t.Fatalf("%+v", out)
		}
		if rs := fake.Rejections(); len(rs) != 1 || rs[0].Reason != "invalid token" {
			t.Fatalf("rejections %+v", rs)
		}
	})
	t.Run("unknown pixel halts", func(t *testing.T) {
		c, _ := setup(t, func(c *Config) { c.PixelID = "a2_other" })
		if out := c.Send(context.Background(), []conversions.Conversion{conv("a")}); classes(out) != "halt" || out[0].Status != 404 {
			t.Fatalf("%+v", out)
		}
	})
	t.Run("stale by reddit's clock rejects the whole batch", func(t *testing.T) {
		// Reddit's clock runs 2 h ahead of ours: an event 167 h old for us
		// is 169 h old for Reddit, which refuses the batch.
		c, fake := setup(t, nil, redditfake.WithClock(func() time.Time { return clientNow.Add(2 * time.Hour) }))
		old := conv("old")
		old.OccurredAt = clientNow.Add(-167 * time.Hour)
		notSent := conv("not-sent")
		notSent.DedupID = ""
		out := c.Send(context.Background(), []conversions.Conversion{conv("a"), old, notSent})
		if got := classes(out); got != "rejected/whole,rejected/whole,rejected" {
			t.Fatalf("classes %s (%+v)", got, out)
		}
		if !strings.Contains(out[1].Reason, "invalid event: event_at timestamp must be less than 168h0m0s old") ||
			!strings.Contains(out[0].Reason, "None were processed") || !strings.Contains(out[2].Reason, "dedup_id: required") {
			t.Fatalf("reasons %q / %q / %q", out[0].Reason, out[1].Reason, out[2].Reason)
		}
		if fake.Ledger.Unique() != 0 {
			t.Fatal("counted events of a refused batch")
		}
		// Alone, the bad event is rejected for itself, not as a batch.
		out = c.Send(context.Background(), []conversions.Conversion{old})
		if classes(out) != "rejected" || out[0].Status != 400 {
			t.Fatalf("alone: %+v", out)
		}
	})
}

func TestSendOversizeBatch(t *testing.T) {
	c, fake := setup(t, nil)
	batch := make([]conversions.Conversion, MaxBatchSize+1)
	for i := range batch {
		batch[i] = conv(fmt.Sprint("c", i))
	}
	out := c.Send(context.Background(), batch)
	if out[0].Class != conversions.Delivered || out[MaxBatchSize-1].Class != conversions.Delivered ||
		out[MaxBatchSize].Class != conversions.Retry || out[MaxBatchSize].Status != 0 {
		t.Fatalf("first %+v last-sent %+v excess %+v", out[0], out[MaxBatchSize-1], out[MaxBatchSize])
	}
	if fake.Ledger.Unique() != MaxBatchSize || len(fake.Requests()) != 1 {
		t.Fatalf("ledger %d requests %d", fake.Ledger.Unique(), len(fake.Requests()))
	}
}

func TestSendTestMode(t *testing.T) {
	c, fake := setup(t, func(c *Config) { c.TestMode, c.TestID = true, "t2_test_abc" })
	if got := classes(c.Send(context.Background(), []conversions.Conversion{conv("a")})); got != "delivered" {
		t.Fatal(got)
	}
	if fake.Ledger.Unique() != 0 || len(fake.TestEvents()) != 1 || fake.TestEvents()[0].TestID != "t2_test_abc" {
		t.Fatalf("ledger %d test events %+v", fake.Ledger.Unique(), fake.TestEvents())
	}
	// A test_id without test_mode is not sent: the events are live.
	c, fake = setup(t, func(c *Config) { c.TestID = "t2_test_abc" })
	c.Send(context.Background(), []conversions.Conversion{conv("a")})
	if fake.Ledger.Unique() != 1 || len(fake.TestEvents()) != 0 {
		t.Fatalf("ledger %d test events %d", fake.Ledger.Unique(), len(fake.TestEvents()))
	}
}

func TestSendNothingValidSendsNothing(t *testing.T) {
	c, fake := setup(t, nil)
	denied := conv("d")
	denied.Consent = conversions.ConsentDenied
	out := c.Send(context.Background(), []conversions.Conversion{denied})
	if classes(out) != "rejected" || !strings.Contains(out[0].Reason, "consent denied") || len(fake.Requests()) != 0 {
		t.Fatalf("%+v, %d requests", out, len(fake.Requests()))
	}
	if out := c.Send(context.Background(), nil); len(out) != 0 || len(fake.Requests()) != 0 {
		t.Fatal("empty batch sent a request")
	}
}

// Everything the client sends for the usual shapes of conversion passes the
// strict fake, LDU included.
func TestSendVariantsPassFake(t *testing.T) {
	c, fake := setup(t, func(c *Config) { c.LimitedDataUse, c.DefaultPhoneCountry = true, "1" })
	var batch []conversions.Conversion
	for i, name := range []string{"PageVisit", "VIEW_CONTENT", "search", "Add To Cart", "AddToWishlist", "Lead", "SignUp", "Trial Started"} {
		cv := conv(fmt.Sprint("v", i))
		cv.EventName = name
		cv.Consent = conversions.ConsentUnknown
		cv.User.Country, cv.User.State, cv.User.Phone = "US", "CA", "(650) 555-1212"
		batch = append(batch, cv)
	}
	out := c.Send(context.Background(), batch)
	if got := classes(out); strings.Count(got, "delivered") != len(batch) {
		t.Fatalf("classes %s; fake: %+v", got, fake.Rejections())
	}
}
