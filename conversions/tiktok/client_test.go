package tiktok

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
	"github.com/hogsend/hogsend-proxy/internal/fakeads"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/tiktokfake"
)

// clock is an hour after the documented event_time.
func clock() time.Time { return exampleTime.Add(time.Hour) }

func newFake(t *testing.T, opts ...tiktokfake.Option) *tiktokfake.Server {
	t.Helper()
	s := tiktokfake.New(append([]tiktokfake.Option{tiktokfake.WithClock(clock)}, opts...)...)
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, s *tiktokfake.Server, edit func(*Config)) *Client {
	t.Helper()
	cfg := Config{PixelCode: tiktokfake.DefaultPixelCode, AccessToken: tiktokfake.DefaultAccessToken, BaseURL: s.URL, DefaultPhoneCountry: "1"}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg, conversions.ClientOptions{HTTP: s.Client(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// full is the shared test conversion, deduplicated by id, with consent.
func full(id string) conversions.Conversion {
	c := destinationtest.Conversion(0, "CompletePayment", exampleTime)
	c.DedupID, c.Consent = id, conversions.ConsentGranted
	return c
}

func classes(out []conversions.Outcome) string {
	s := ""
	for _, o := range out {
		s += o.Class.String() + " "
	}
	return s
}

func TestHappyBatch(t *testing.T) {
	s := newFake(t)
	c := newClient(t, s, func(cfg *Config) { cfg.TestEventCode = "TEST38291" })
	if c.Name() != "tiktok" || c.MaxBatch() != 1000 {
		t.Fatalf("name %s max %d", c.Name(), c.MaxBatch())
	}
	onlyEmail := conv()
	onlyEmail.DedupID, onlyEmail.Clicks, onlyEmail.User.Email = "d2", conversions.Clicks{}, "a@b.co"
	batch := []conversions.Conversion{full("d1"), onlyEmail, conv()}
	batch[2].DedupID = "d3"
	out := c.Send(context.Background(), batch)
	for i, o := range out {
		if o.Class != conversions.Delivered || o.Status != 200 || o.Reason != "" {
			t.Fatalf("outcome %d: %+v (rejections %+v)", i, o, s.Rejections())
		}
	}
	if s.Ledger.Unique() != 3 {
		t.Fatalf("ledger counted %d", s.Ledger.Unique())
	}
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want one per Send", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/open_api/v1.3/event/track/" || r.Header.Get("Access-Token") != tiktokfake.DefaultAccessToken || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s %s %v", r.Method, r.Path, r.Header)
	}
	var body struct {
		EventSource   string `json:"event_source"`
		EventSourceID string `json:"event_source_id"`
		TestEventCode string `json:"test_event_code"`
		Data          []struct {
			EventID        string `json:"event_id"`
			LimitedDataUse *bool  `json:"limited_data_use"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.EventSource != "web" || body.EventSourceID != tiktokfake.DefaultPixelCode || body.TestEventCode != "TEST38291" || len(body.Data) != 3 {
		t.Fatalf("body %s", r.Body)
	}
	if body.Data[0].EventID != "d1" || body.Data[0].LimitedDataUse == nil || *body.Data[0].LimitedDataUse || body.Data[1].LimitedDataUse != nil {
		t.Fatalf("event_id / limited_data_use: %s", r.Body)
	}
}

func TestScriptedFaults(t *testing.T) {
	f := func(name string, fault fakeads.Fault, n int, want conversions.Class, retryAfter time.Duration, whole bool, status int) {
		t.Helper()
		s := newFake(t)
		c := newClient(t, s, nil)
		s.Script.Push(fault)
		batch := make([]conversions.Conversion, n)
		for i := range batch {
			batch[i] = full(fmt.Sprint("f", i))
		}
		out := c.Send(context.Background(), batch)
		for i, o := range out {
			if o.Class != want || o.RetryAfter != retryAfter || o.WholeBatch != whole || o.Status != status {
				t.Fatalf("%s: outcome %d = %+v, want %s after %s whole=%v status %d", name, i, o, want, retryAfter, whole, status)
			}
			if want != conversions.Delivered && o.Reason == "" {
				t.Fatalf("%s: no reason", name)
			}
		}
		if s.Ledger.Unique() != 0 {
			t.Fatalf("%s: a fault was counted", name)
		}
	}
	f("40100 with Retry-After", tiktokfake.RateLimited("7"), 2, conversions.Retry, 7*time.Second, false, 200)
	f("HTTP 429 with Retry-After", tiktokfake.ServerError(429, "3"), 2, conversions.Retry, 3*time.Second, false, 429)
	f("HTTP 503", tiktokfake.ServerError(503, ""), 2, conversions.Retry, 0, false, 503)
	f("HTTP 500", tiktokfake.ServerError(500, ""), 1, conversions.Retry, 0, false, 500)
	f("token revoked", tiktokfake.TokenRevoked(), 2, conversions.Halt, 0, false, 200)
	f("no permission on pixel", tiktokfake.NoPermission(tiktokfake.DefaultPixelCode), 2, conversions.Halt, 0, false, 200)
	f("bad event in a batch", tiktokfake.InvalidEvent(1, "properties.contents.0.content_id", "Not a valid string"), 2, conversions.Rejected, 0, true, 200)
	f("bad single event", tiktokfake.InvalidEvent(0, "properties.contents.0.content_id", "Not a valid string"), 1, conversions.Rejected, 0, false, 200)
	f("partial success", tiktokfake.PartialSuccess(), 2, conversions.Delivered, 0, false, 200)
	f("200 without envelope", fakeads.Fault{Status: 200, Body: "<html>ok</html>"}, 2, conversions.Retry, 0, false, 200)
}

// The fake's own validation, not a script, refuses what is misconfigured.
func TestFakeRefusalsClassified(t *testing.T) {
	f := func(name string, fakeOpts []tiktokfake.Option, edit func(*Config), want conversions.Class, status int) {
		t.Helper()
		s := newFake(t, fakeOpts...)
		c := newClient(t, s, edit)
		out := c.Send(context.Background(), []conversions.Conversion{full("a"), full("b")})
		for _, o := range out {
			if o.Class != want || o.Status != status || o.WholeBatch {
				t.Fatalf("%s: %+v", name, o)
			}
		}
		if len(s.Rejections()) != 1 {
			t.Fatalf("%s: rejections %+v", name, s.Rejections())
		}
	}
	f("wrong token", nil, func(c *Config) { c.AccessToken = "expired" }, conversions.Halt, 200)
	f("unknown pixel", nil, func(c *Config) { c.PixelCode = "COTHERPIXEL" }, conversions.Halt, 200)
	f("retired version", []tiktokfake.Option{tiktokfake.WithVersion("v1.4")}, nil, conversions.Halt, 404)
}

func TestBadEventSplitsBatch(t *testing.T) {
	// Our window (30 d) is wider than the fake's (7 d): the fake refuses
	// the old event and with it the whole request.
	s := newFake(t)
	c := newClient(t, s, func(c *Config) { c.MaxAge = "720h" })
	old := full("old")
	old.OccurredAt = exampleTime.Add(-10 * 24 * time.Hour)
	out := c.Send(context.Background(), []conversions.Conversion{full("good"), old})
	for _, o := range out {
		if o.Class != conversions.Rejected || !o.WholeBatch {
			t.Fatalf("batch: %+v", o)
		}
	}
	// The dispatcher's split: halves alone.
	if out := c.Send(context.Background(), []conversions.Conversion{full("good")}); out[0].Class != conversions.Delivered {
		t.Fatalf("good half: %+v", out[0])
	}
	if out := c.Send(context.Background(), []conversions.Conversion{old}); out[0].Class != conversions.Rejected || out[0].WholeBatch {
		t.Fatalf("bad half: %+v", out[0])
	}
	if s.Ledger.Unique() != 1 {
		t.Fatalf("ledger %d", s.Ledger.Unique())
	}
}

func TestInvalidConversionsNotSent(t *testing.T) {
	s := newFake(t)
	c := newClient(t, s, nil)
	noID := full("noid")
	noID.User, noID.Clicks = conversions.User{IP: "203.0.113.7"}, conversions.Clicks{}
	denied := full("denied")
	denied.Consent = conversions.ConsentDenied
	old := full("old")
	old.OccurredAt = exampleTime.Add(-8 * 24 * time.Hour)
	out := c.Send(context.Background(), []conversions.Conversion{full("a"), noID, denied, old, full("b")})
	if got := classes(out); got != "delivered rejected rejected rejected delivered " {
		t.Fatalf("outcomes %s: %+v", got, out)
	}
	if out[1].Status != 0 || out[1].Reason == "" {
		t.Fatalf("pre-send rejection %+v", out[1])
	}
	if s.Ledger.Unique() != 2 || len(s.Requests()) != 1 {
		t.Fatalf("ledger %d requests %d", s.Ledger.Unique(), len(s.Requests()))
	}

	// Nothing valid: no request at all.
	out = c.Send(context.Background(), []conversions.Conversion{noID, denied})
	if got := classes(out); got != "rejected rejected " || len(s.Requests()) != 1 {
		t.Fatalf("outcomes %s, requests %d", got, len(s.Requests()))
	}
}

func TestOversizeBatch(t *testing.T) {
	s := newFake(t)
	c := newClient(t, s, nil)
	batch := make([]conversions.Conversion, MaxBatch+1)
	for i := range batch {
		batch[i] = conv()
		batch[i].DedupID = fmt.Sprint("o", i)
	}
	out := c.Send(context.Background(), batch)
	for i, o := range out[:MaxBatch] {
		if o.Class != conversions.Delivered {
			t.Fatalf("outcome %d: %+v", i, o)
		}
	}
	if o := out[MaxBatch]; o.Class != conversions.Retry || o.Status != 0 {
		t.Fatalf("overflow: %+v", o)
	}
	if s.Ledger.Unique() != MaxBatch || len(s.Requests()) != 1 {
		t.Fatalf("ledger %d requests %d", s.Ledger.Unique(), len(s.Requests()))
	}
}
