package meta

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
	"github.com/hogsend/hogsend-proxy/internal/fakeads"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/metafake"
)

const (
	testPixel = "1234567890"
	testToken = "EAAB-test-token"
)

// now is the clock both the client and the fake run on.
var now = t0.Add(time.Hour)

func clock() time.Time { return now }

// pair starts a strict fake and a client pointed at it; edit adjusts the
// client's config, opts the fake's.
func pair(t *testing.T, edit func(*Config), opts ...metafake.Option) (*Client, *metafake.Server) {
	t.Helper()
	fake := metafake.New(append([]metafake.Option{
		metafake.WithPixelID(testPixel), metafake.WithAccessToken(testToken),
		metafake.WithAPIVersion("v25.0"), metafake.WithClock(clock),
	}, opts...)...)
	t.Cleanup(fake.Close)
	cfg := Config{PixelID: testPixel, AccessToken: testToken, APIVersion: "v25.0", BaseURL: fake.URL}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg, conversions.ClientOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	return c, fake
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

func TestNameAndBatch(t *testing.T) {
	c, _ := pair(t, nil)
	if c.Name() != "meta" || c.MaxBatch() != 1000 {
		t.Fatalf("Name %q MaxBatch %d", c.Name(), c.MaxBatch())
	}
}

func TestSendHappyBatch(t *testing.T) {
	c, fake := pair(t, nil)
	batch := []conversions.Conversion{exampleConversion(), destinationtest.Conversion(2, "Purchase", t0), destinationtest.Conversion(3, "Purchase", t0)}
	out := c.Send(context.Background(), batch)
	wantClasses(t, out, "delivered,delivered,delivered")
	for _, o := range out {
		if o.Status != 200 || o.Reason != "" {
			t.Fatalf("outcome %+v", o)
		}
	}
	if fake.Ledger.Unique() != 3 || fake.TestLedger.Unique() != 0 {
		t.Fatalf("ledger %d live, %d test; want 3, 0", fake.Ledger.Unique(), fake.TestLedger.Unique())
	}
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want one per Send", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/v25.0/"+testPixel+"/events" || r.Query != "" || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s %s?%s %s", r.Method, r.Path, r.Query, r.Header.Get("Content-Type"))
	}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.AccessToken != testToken {
		t.Fatalf("token not in the JSON body: %v %q", err, body.AccessToken)
	}
	ev := fake.Events()[0]
	if ev.ID != batch[0].DedupID || ev.Name != "Purchase" || ev.Time != t0.Unix() || ev.UserData["em"][0] != emJohn || ev.UserData["ph"][0] != phUS {
		t.Fatalf("event %+v", ev)
	}
}

func TestSendScriptedFaults(t *testing.T) {
	f := func(fault fakeads.Fault, n int, want conversions.Outcome, reason string) {
		t.Helper()
		c, fake := pair(t, nil)
		fake.Script.Push(fault)
		batch := make([]conversions.Conversion, n)
		for i := range batch {
			batch[i] = destinationtest.Conversion(i, "Purchase", t0)
		}
		out := c.Send(context.Background(), batch)
		for i, o := range out {
			if o.Class != want.Class || o.RetryAfter != want.RetryAfter || o.WholeBatch != want.WholeBatch || o.Status != want.Status {
				t.Fatalf("outcome %d: %+v, want %+v", i, o, want)
			}
			if !strings.Contains(o.Reason, reason) {
				t.Fatalf("reason %q lacks %q", o.Reason, reason)
			}
		}
		if fake.Ledger.Unique() != 0 {
			t.Fatalf("a refused request was counted")
		}
	}
	R, X, H := conversions.Retry, conversions.Rejected, conversions.Halt
	f(metafake.TooManyRequestsFault("7"), 2, conversions.Outcome{Class: R, RetryAfter: 7 * time.Second, Status: 429}, "code 4")
	f(metafake.ServerFault(), 2, conversions.Outcome{Class: R, Status: 500}, "code 2")
	f(metafake.HTMLFault(502), 1, conversions.Outcome{Class: R, Status: 502}, "not a graph answer")
	f(metafake.ThrottleFault(17, "3"), 2, conversions.Outcome{Class: R, RetryAfter: 3 * time.Second, Status: 400}, "code 17")
	f(metafake.ThrottleFault(80003, ""), 1, conversions.Outcome{Class: R, Status: 400}, "code 80003")
	f(metafake.AuthFault(), 2, conversions.Outcome{Class: H, Status: 400}, "code 190")
	f(metafake.DeprecatedVersionFault(), 1, conversions.Outcome{Class: H, Status: 400}, "deprecated api version")
	f(metafake.UnknownPixelFault(testPixel), 1, conversions.Outcome{Class: H, Status: 400}, "unknown pixel")
	bad := metafake.InvalidParameterFault(metafake.SubcodeNotHashed, "User Parameter Not Hashed", "The ct parameter isn’t hashed.")
	f(bad, 3, conversions.Outcome{Class: X, WholeBatch: true, Status: 400}, "User Parameter Not Hashed")
	f(bad, 1, conversions.Outcome{Class: X, Status: 400}, "2804016")
}

// The fake's own checks, not scripts, produce the same classes.
func TestSendRefusedByFake(t *testing.T) {
	two := []conversions.Conversion{destinationtest.Conversion(1, "Purchase", t0), destinationtest.Conversion(2, "Purchase", t0)}

	c, _ := pair(t, func(cfg *Config) { cfg.APIVersion = "v19.0" })
	wantClasses(t, c.Send(context.Background(), two), "halt,halt")

	c, _ = pair(t, func(cfg *Config) { cfg.AccessToken = "EAAB-expired" })
	wantClasses(t, c.Send(context.Background(), two), "halt,halt")

	c, _ = pair(t, func(cfg *Config) { cfg.PixelID = "999" })
	out := c.Send(context.Background(), two)
	wantClasses(t, out, "halt,halt")
	if !strings.Contains(out[0].Reason, "100/33") {
		t.Fatalf("reason %q", out[0].Reason)
	}

	// Meta's clock is 8 days ahead of ours: the events are too old there.
	c, fake := pair(t, nil, metafake.WithClock(func() time.Time { return now.Add(8 * 24 * time.Hour) }))
	out = c.Send(context.Background(), two)
	wantClasses(t, out, "rejected,rejected")
	if !out[0].WholeBatch || !strings.Contains(out[0].Reason, "2804003") {
		t.Fatalf("outcome %+v", out[0])
	}
	if rej := fake.Rejections(); len(rej) != 1 || rej[0].Subcode != metafake.SubcodeTooOld {
		t.Fatalf("rejections %+v", rej)
	}
}

func TestSendRejectsBeforeSending(t *testing.T) {
	c, fake := pair(t, nil)
	old := destinationtest.Conversion(2, "Purchase", t0)
	old.OccurredAt = now.Add(-8 * 24 * time.Hour)
	denied := destinationtest.Conversion(3, "Purchase", t0)
	denied.Consent = conversions.ConsentDenied
	anonymous := destinationtest.Conversion(4, "Purchase", t0)
	anonymous.User = conversions.User{}
	anonymous.Clicks = conversions.Clicks{Fbclid: "IwAR-no-click-time"}
	out := c.Send(context.Background(), []conversions.Conversion{destinationtest.Conversion(1, "Purchase", t0), old, denied, anonymous, destinationtest.Conversion(5, "Purchase", t0)})
	wantClasses(t, out, "delivered,rejected,rejected,rejected,delivered")
	for i, want := range map[int]string{1: "event_time", 2: "consent denied", 3: "user_data: no identifier"} {
		if !strings.Contains(out[i].Reason, want) || out[i].Status != 0 || out[i].WholeBatch {
			t.Fatalf("outcome %d: %+v, want reason %q", i, out[i], want)
		}
	}
	if fake.Ledger.Unique() != 2 || len(fake.Requests()) != 1 || len(fake.Events()) != 2 {
		t.Fatalf("ledger %d, requests %d, events %d", fake.Ledger.Unique(), len(fake.Requests()), len(fake.Events()))
	}

	// Nothing sendable: no request at all.
	out = c.Send(context.Background(), []conversions.Conversion{old, denied})
	wantClasses(t, out, "rejected,rejected")
	if len(fake.Requests()) != 1 {
		t.Fatalf("sent a request with no event")
	}
	if out := c.Send(context.Background(), nil); len(out) != 0 {
		t.Fatalf("outcomes for an empty batch: %+v", out)
	}
}

func TestSendTestEventCodeAndConsent(t *testing.T) {
	c, fake := pair(t, func(cfg *Config) { cfg.TestEventCode = "TEST12345" })
	granted := destinationtest.Conversion(1, "Purchase", t0)
	granted.Consent = conversions.ConsentGranted
	wantClasses(t, c.Send(context.Background(), []conversions.Conversion{granted, destinationtest.Conversion(2, "Purchase", t0)}), "delivered,delivered")
	if fake.TestLedger.Unique() != 2 || fake.Ledger.Unique() != 0 {
		t.Fatalf("test ledger %d live %d", fake.TestLedger.Unique(), fake.Ledger.Unique())
	}
	evs := fake.Events()
	if evs[0].TestEventCode != "TEST12345" {
		t.Fatalf("test_event_code %q", evs[0].TestEventCode)
	}
	if evs[0].DataProcessingOptions == nil || len(evs[0].DataProcessingOptions) != 0 {
		t.Fatalf("granted consent: data_processing_options %#v, want []", evs[0].DataProcessingOptions)
	}
	if evs[1].DataProcessingOptions != nil {
		t.Fatalf("unknown consent: data_processing_options %#v, want absent", evs[1].DataProcessingOptions)
	}
}

func TestSendOverBatchLimit(t *testing.T) {
	c, fake := pair(t, nil)
	batch := make([]conversions.Conversion, MaxBatch+1)
	for i := range batch {
		batch[i] = destinationtest.Conversion(i, "Purchase", t0)
	}
	out := c.Send(context.Background(), batch)
	if out[MaxBatch-1].Class != conversions.Delivered || out[MaxBatch].Class != conversions.Retry {
		t.Fatalf("outcomes at the limit: %+v %+v", out[MaxBatch-1], out[MaxBatch])
	}
	if fake.Ledger.Unique() != MaxBatch || len(fake.Requests()) != 1 {
		t.Fatalf("ledger %d requests %d", fake.Ledger.Unique(), len(fake.Requests()))
	}
}
