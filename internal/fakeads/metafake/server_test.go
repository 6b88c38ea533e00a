package metafake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

const (
	pixel = DefaultPixelID
	token = DefaultAccessToken
	path  = "/v25.0/" + pixel + "/events"
	emDig = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
)

// now is an hour after the documented example's event_time.
var now = time.Unix(1767225600, 0).Add(time.Hour)

func start(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s := New(append([]Option{WithClock(func() time.Time { return now })}, opts...)...)
	t.Cleanup(s.Close)
	return s
}

func send(t *testing.T, s *Server, method, p, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+p, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// event is a valid website event; edit changes it.
func event(edit func(ev, ud, cd map[string]any)) map[string]any {
	ud := map[string]any{
		"em": []string{emDig}, "client_ip_address": "203.0.113.7", "client_user_agent": "Mozilla/5.0",
		"fbc": "fb.1.1767000000000.IwAR2F4-dbP0l7Mn", "fbp": "fb.1.1766000000000.1098115397",
	}
	cd := map[string]any{"currency": "USD", "value": 142.52}
	ev := map[string]any{
		"event_name": "Purchase", "event_time": now.Unix() - 60, "event_id": "e1",
		"action_source": "website", "event_source_url": "https://shop.example/thanks",
		"user_data": ud, "custom_data": cd,
	}
	if edit != nil {
		edit(ev, ud, cd)
	}
	return ev
}

func jsonBody(t *testing.T, events ...map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"data": events, "access_token": token})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func graphErr(t *testing.T, body string) GraphError {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("not a graph error: %s", body)
	}
	return e.Error
}

func TestAcceptsDocumentedExample(t *testing.T) {
	s := start(t, WithPixelID("1234567890"), WithAPIVersion("v25.0"), WithAccessToken("EAAB…"))
	// docs/contracts/ad-platforms.md §2.2 verbatim, ellipses included.
	body := `{
  "data": [{
    "event_name": "Purchase",
    "event_time": 1767225600,
    "event_id": "a3f1…(stable per conversion)",
    "action_source": "website",
    "event_source_url": "https://shop.example/checkout/thanks",
    "user_data": {
      "em": ["62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"],
      "ph": ["e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"],
      "client_ip_address": "203.0.113.7",
      "client_user_agent": "Mozilla/5.0 …",
      "fbc": "fb.1.1767000000000.IwAR2F4-dbP0l7Mn",
      "fbp": "fb.1.1766000000000.1098115397"
    },
    "custom_data": {"currency": "USD", "value": 142.52, "order_id": "ord_123",
                    "contents": [{"id": "sku-1", "quantity": 1, "item_price": 142.52}], "content_type": "product"}
  }],
  "test_event_code": "TEST12345",
  "access_token": "EAAB…"
}`
	status, resp := send(t, s, "POST", "/v25.0/1234567890/events", "application/json", body)
	if status != 200 || resp != `{"events_received":1,"messages":[],"fbtrace_id":"FakeTrace"}`+"\n" {
		t.Fatalf("%d %s", status, resp)
	}
	if s.TestLedger.Unique() != 1 || s.Ledger.Unique() != 0 {
		t.Fatalf("test event counted live: test %d live %d", s.TestLedger.Unique(), s.Ledger.Unique())
	}
	ev := s.Events()[0]
	if ev.Name != "Purchase" || ev.Time != 1767225600 || ev.UserData["ph"][0] != "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176" || ev.TestEventCode != "TEST12345" {
		t.Fatalf("event %+v", ev)
	}
}

// Each case breaks one rule of docs/contracts/ad-platforms.md §2.2, §2.3 or docs/contracts/ad-platforms.md §2.8 in an otherwise
// valid event.
func TestRefusesBadEvents(t *testing.T) {
	f := func(edit func(ev, ud, cd map[string]any), subcode int, detail string) {
		t.Helper()
		s := start(t)
		status, resp := send(t, s, "POST", path, "application/json", jsonBody(t, event(edit)))
		e := graphErr(t, resp)
		if status != 400 || e.Code != 100 || e.Subcode != subcode || !strings.Contains(e.UserMsg, detail) {
			t.Fatalf("%d %s\nwant 400, code 100/%d, %q", status, resp, subcode, detail)
		}
		if s.Ledger.Unique() != 0 {
			t.Fatal("a refused event was counted")
		}
		if rej := s.Rejections(); len(rej) != 1 || rej[0].Subcode != subcode {
			t.Fatalf("rejections %+v", rej)
		}
	}
	// Hashing: plain PII, sha256(""), upper-case hex.
	f(func(_, ud, _ map[string]any) { ud["em"] = []string{"john_smith@gmail.com"} }, SubcodeNotHashed, "The em parameter isn’t hashed")
	f(func(_, ud, _ map[string]any) { ud["ph"] = fakeads.Digest("") }, SubcodeNotHashed, "SHA-256 of an empty string")
	f(func(_, ud, _ map[string]any) { ud["ct"] = strings.ToUpper(emDig) }, SubcodeNotHashed, "The ct parameter isn’t hashed")
	f(func(_, ud, _ map[string]any) { ud["external_id"] = []string{fakeads.Digest("")} }, SubcodeNotHashed, "external_id")
	// Plain fields must stay plain and well formed.
	f(func(_, ud, _ map[string]any) { ud["client_ip_address"] = fakeads.Digest("203.0.113.7") }, SubcodeInvalid, "must be sent unhashed")
	f(func(_, ud, _ map[string]any) { ud["client_user_agent"] = fakeads.Digest("Mozilla/5.0") }, SubcodeInvalid, "must be sent unhashed")
	f(func(_, ud, _ map[string]any) { ud["client_ip_address"] = "10.0.0.1, 10.0.0.2" }, SubcodeInvalid, "not an IP address")
	f(func(_, ud, _ map[string]any) { ud["fbc"] = "fb.1.IwAR2F4" }, SubcodeInvalid, "fbc")
	f(func(_, ud, _ map[string]any) { ud["fbp"] = []string{"fb.1.1766000000000.1098115397"} }, SubcodeInvalid, "user_data.fbp must be a non-empty string")
	f(func(_, ud, _ map[string]any) { ud["email"] = "x" }, SubcodeInvalid, `unknown user_data parameter "email"`)
	// Time: unit, type, window.
	f(func(ev, _, _ map[string]any) { ev["event_time"] = now.UnixMilli() }, SubcodeTime, "looks like milliseconds")
	f(func(ev, _, _ map[string]any) { ev["event_time"] = "1767225600" }, SubcodeTime, "integer of unix seconds")
	f(func(ev, _, _ map[string]any) { ev["event_time"] = 1767225600.5 }, SubcodeTime, "integer of unix seconds")
	f(func(ev, _, _ map[string]any) { ev["event_time"] = now.Add(-8 * 24 * time.Hour).Unix() }, SubcodeTooOld, "more than seven days old")
	f(func(ev, _, _ map[string]any) {
		ev["event_time"], ev["action_source"] = now.Add(-63*24*time.Hour).Unix(), "physical_store"
	}, SubcodeTooOld, "more than 62 days old")
	f(func(ev, _, _ map[string]any) { ev["event_time"] = now.Add(10 * time.Minute).Unix() }, SubcodeTime, "ahead of now")
	f(func(ev, _, _ map[string]any) { delete(ev, "event_time") }, SubcodeInvalid, "event_time is required")
	// Required fields and enums.
	f(func(ev, _, _ map[string]any) { delete(ev, "event_name") }, SubcodeInvalid, "event_name is required")
	f(func(ev, _, _ map[string]any) { ev["action_source"] = "web" }, SubcodeInvalid, "action_source is required and must be one of")
	f(func(ev, _, _ map[string]any) { delete(ev, "action_source") }, SubcodeInvalid, "action_source is required")
	f(func(ev, _, _ map[string]any) { delete(ev, "event_source_url") }, SubcodeInvalid, "website events need")
	f(func(_, ud, _ map[string]any) { delete(ud, "client_user_agent") }, SubcodeInvalid, "website events need")
	f(func(ev, _, _ map[string]any) { ev["event_source_url"] = "/thanks" }, SubcodeInvalid, "absolute http(s) URL")
	f(func(ev, _, _ map[string]any) { ev["event_id"] = 42 }, SubcodeInvalid, "event_id must be a non-empty string")
	f(func(ev, _, _ map[string]any) { delete(ev, "user_data") }, SubcodeInvalid, "user_data is required")
	f(func(ev, _, _ map[string]any) { ev["eventName"] = "Lead" }, SubcodeInvalid, `unknown event parameter "eventName"`)
	f(func(ev, _, _ map[string]any) {
		ev["action_source"] = "system_generated"
		ev["user_data"] = map[string]any{"fn": []string{emDig}}
	}, SubcodeNoUserMatch, "valid combination")
	// custom_data: units and types.
	f(func(ev, _, _ map[string]any) { delete(ev, "custom_data") }, SubcodeInvalid, "Purchase events need")
	f(func(_, _, cd map[string]any) { cd["value"] = "142.52" }, SubcodeInvalid, "custom_data.value must be a number")
	f(func(_, _, cd map[string]any) { delete(cd, "currency") }, SubcodeInvalid, "needs custom_data.currency")
	f(func(_, _, cd map[string]any) { cd["currency"] = "dollars" }, SubcodeInvalid, "ISO 4217")
	f(func(ev, _, _ map[string]any) { ev["data_processing_options"] = []string{"GDPR"} }, SubcodeInvalid, `may only hold "LDU"`)
}

func TestAcceptsVariants(t *testing.T) {
	f := func(edit func(ev, ud, cd map[string]any)) {
		t.Helper()
		s := start(t)
		status, resp := send(t, s, "POST", path, "application/json", jsonBody(t, event(edit)))
		if status != 200 {
			t.Fatalf("%d %s", status, resp)
		}
	}
	f(nil)
	f(func(_, ud, _ map[string]any) { ud["em"] = emDig }) // a string instead of a list
	f(func(_, ud, _ map[string]any) { ud["external_id"] = "user-42" })
	f(func(_, ud, _ map[string]any) { ud["fbc"] = "fb.1.1767000000000.IwAR2F4.Bg" })
	f(func(ev, _, _ map[string]any) {
		ev["event_time"], ev["action_source"] = now.Add(-30*24*time.Hour).Unix(), "physical_store"
	})
	f(func(ev, _, _ map[string]any) {
		ev["data_processing_options"], ev["data_processing_options_country"], ev["data_processing_options_state"] = []string{"LDU"}, 1, 1000
	})
	f(func(ev, _, _ map[string]any) { ev["data_processing_options"] = []string{} })
	f(func(ev, ud, _ map[string]any) {
		ev["event_name"], ev["action_source"] = "Lead", "system_generated"
		delete(ev, "custom_data")
		delete(ev, "event_source_url")
		ev["user_data"] = map[string]any{"client_ip_address": "2001:db8::1", "client_user_agent": "UA"}
	})
}

func TestRefusesRequests(t *testing.T) {
	f := func(s *Server, method, p, contentType, body string, code, subcode int) {
		t.Helper()
		status, resp := send(t, s, method, p, contentType, body)
		e := graphErr(t, resp)
		if status != 400 || e.Code != code || e.Subcode != subcode {
			t.Fatalf("%s %s: %d %s, want code %d/%d", method, p, status, resp, code, subcode)
		}
	}
	s := start(t, WithPixelID(pixel), WithAccessToken(token), WithAPIVersion("v25.0"))
	ok := jsonBody(t, event(nil))
	f(s, "GET", path, "", "", 100, 0)
	f(s, "POST", "/v25.0/"+pixel+"/event", "application/json", ok, 2500, 0)
	f(s, "POST", "/"+pixel+"/events", "application/json", ok, 2500, 0)
	f(s, "POST", path, "text/plain", ok, 100, 0)
	f(s, "POST", path, "application/json", `{"data":[`, 100, 0)
	// Auth: no token at all, then a wrong one.
	noToken, _ := json.Marshal(map[string]any{"data": []any{event(nil)}})
	f(s, "POST", path, "application/json", string(noToken), 104, 0)
	f(s, "POST", path+"?access_token=other", "application/json", string(noToken), 190, 0)
	// Version and pixel from the constructor.
	f(s, "POST", "/v19.0/"+pixel+"/events", "application/json", ok, 2635, 0)
	f(s, "POST", "/v25.0/999/events", "application/json", ok, 100, SubcodeUnknownObj)
	// data: missing, empty, not an array, over the limit.
	f(s, "POST", path, "application/json", `{"access_token":"`+token+`"}`, 100, 0)
	f(s, "POST", path, "application/json", `{"data":[],"access_token":"`+token+`"}`, 100, 0)
	f(s, "POST", path, "application/json", `{"data":{},"access_token":"`+token+`"}`, 100, 0)
	f(s, "POST", path, "application/json", strings.Replace(ok, `"data":`, `"pixel_id":"1","data":`, 1), 100, 0)
	events := make([]map[string]any, MaxBatch+1)
	for i := range events {
		events[i] = event(func(ev, _, _ map[string]any) { ev["event_id"] = fmt.Sprintf("e%d", i) })
	}
	f(s, "POST", path, "application/json", jsonBody(t, events...), 100, SubcodeInvalid)
	if s.Ledger.Unique() != 0 || len(s.Rejections()) != 14 {
		t.Fatalf("ledger %d, rejections %d", s.Ledger.Unique(), len(s.Rejections()))
	}
	// Exactly the limit passes.
	status, resp := send(t, s, "POST", path, "application/json", jsonBody(t, events[:MaxBatch]...))
	if status != 200 || !strings.Contains(resp, `"events_received":1000`) || s.Ledger.Unique() != MaxBatch {
		t.Fatalf("%d %s, ledger %d", status, resp, s.Ledger.Unique())
	}
}

// One bad event fails the whole request: nothing of it is counted.
func TestAllOrNothing(t *testing.T) {
	s := start(t)
	old := event(func(ev, _, _ map[string]any) {
		ev["event_id"], ev["event_time"] = "e2", now.Add(-8*24*time.Hour).Unix()
	})
	status, resp := send(t, s, "POST", path, "application/json", jsonBody(t, event(nil), old))
	if e := graphErr(t, resp); status != 400 || e.Subcode != SubcodeTooOld || !strings.HasPrefix(e.UserMsg, "data[1]: ") {
		t.Fatalf("%d %s", status, resp)
	}
	if s.Ledger.Unique() != 0 || len(s.Events()) != 0 {
		t.Fatal("part of a refused request was counted")
	}
}

// The token may come in the query string or a form body (docs/contracts/ad-platforms.md §2.1).
func TestTokenPlacesAndFormBody(t *testing.T) {
	s := start(t, WithAccessToken(token))
	noToken, _ := json.Marshal(map[string]any{"data": []any{event(nil)}})
	if status, resp := send(t, s, "POST", path+"?access_token="+token, "application/json", string(noToken)); status != 200 {
		t.Fatalf("token in query: %d %s", status, resp)
	}
	// RudderStack's form: data is a JSON array of JSON-encoded events.
	evJSON, _ := json.Marshal(event(func(ev, _, _ map[string]any) { ev["event_id"] = "form-1" }))
	data, _ := json.Marshal([]string{string(evJSON)})
	form := url.Values{"data": {string(data)}, "access_token": {token}, "test_event_code": {"TEST1"}}.Encode()
	if status, resp := send(t, s, "POST", path, "application/x-www-form-urlencoded", form); status != 200 {
		t.Fatalf("form body: %d %s", status, resp)
	}
	if s.Ledger.Unique() != 1 || s.TestLedger.Unique() != 1 {
		t.Fatalf("live %d test %d", s.Ledger.Unique(), s.TestLedger.Unique())
	}
}

// Meta deduplicates on event_name + event_id.
func TestLedgerDedup(t *testing.T) {
	s := start(t)
	a := event(nil)
	lead := event(func(ev, _, _ map[string]any) { ev["event_name"] = "Lead" })
	noID := event(func(ev, _, _ map[string]any) { delete(ev, "event_id") })
	for _, body := range []string{jsonBody(t, a), jsonBody(t, a, lead), jsonBody(t, noID, noID)} {
		if status, resp := send(t, s, "POST", path, "application/json", body); status != 200 {
			t.Fatalf("%d %s", status, resp)
		}
	}
	if s.Ledger.Unique() != 4 || s.Ledger.Duplicates() != 1 {
		t.Fatalf("unique %d duplicates %d, want 4 and 1 (keys %v)", s.Ledger.Unique(), s.Ledger.Duplicates(), s.Ledger.Keys())
	}
	if got := s.Ledger.Keys()[0]; got != "Purchase/e1" {
		t.Fatalf("key %q", got)
	}
}

// Scripted faults answer first, even a request that would be refused, and
// are recorded as requests but not as rejections.
func TestScriptFirst(t *testing.T) {
	s := start(t)
	s.Script.Push(ServerFault(), TooManyRequestsFault("5"), AuthFault())
	status, resp := send(t, s, "GET", "/nowhere", "", "")
	if e := graphErr(t, resp); status != 500 || e.Code != 2 || !e.IsTransient {
		t.Fatalf("%d %s", status, resp)
	}
	req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(jsonBody(t, event(nil))))
	req.Header.Set("Content-Type", "application/json")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 429 || r.Header.Get("Retry-After") != "5" {
		t.Fatalf("%d Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if status, resp := send(t, s, "POST", path, "application/json", jsonBody(t, event(nil))); status != 400 || graphErr(t, resp).Code != 190 {
		t.Fatalf("%d %s", status, resp)
	}
	if status, _ := send(t, s, "POST", path, "application/json", jsonBody(t, event(nil))); status != 200 {
		t.Fatalf("script not drained: %d", status)
	}
	s.Script.Down(HTMLFault(502))
	if status, resp := send(t, s, "POST", path, "application/json", jsonBody(t, event(nil))); status != 502 || !strings.Contains(resp, "Bad Gateway") {
		t.Fatalf("outage: %d %s", status, resp)
	}
	s.Script.Up()
	reqs := s.Requests()
	if len(reqs) != 5 || reqs[0].Status != 500 || reqs[0].Method != "GET" || reqs[3].Status != 200 || reqs[4].Status != 502 {
		t.Fatalf("requests %+v", reqs)
	}
	if len(s.Rejections()) != 0 || s.Ledger.Unique() != 1 {
		t.Fatalf("rejections %+v ledger %d", s.Rejections(), s.Ledger.Unique())
	}
}

func TestValidateEvent(t *testing.T) {
	b, _ := json.Marshal(event(nil))
	if err := ValidateEvent(b, now); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(event(func(_, ud, _ map[string]any) { ud["em"] = "a@b.co" }))
	err := ValidateEvent(b, now)
	if err == nil || !strings.Contains(err.Error(), "graph error 100/2804016") {
		t.Fatalf("error %v", err)
	}
}

// Without options the fake is as strict as Meta: one pixel, one token.
func TestStrictByDefault(t *testing.T) {
	s := start(t)
	ok := jsonBody(t, event(nil))
	wrong := strings.Replace(ok, DefaultAccessToken, "any-token", 1)
	if status, resp := send(t, s, "POST", path, "application/json", wrong); status != 400 || graphErr(t, resp).Code != 190 {
		t.Fatalf("another token: %d %s", status, resp)
	}
	if status, resp := send(t, s, "POST", "/v25.0/999/events", "application/json", ok); status != 400 || graphErr(t, resp).Code != 100 {
		t.Fatalf("another pixel: %d %s", status, resp)
	}
	if status, resp := send(t, s, "POST", path, "application/json", ok); status != 200 {
		t.Fatalf("default token and pixel: %d %s", status, resp)
	}
}
