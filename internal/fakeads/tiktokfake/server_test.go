package tiktokfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// 2026-01-01T00:00:00Z, the documented example's event_time, plus an hour.
var clock = func() time.Time { return time.Unix(1767225600, 0).Add(time.Hour) }

// documentedExample is TikTok's documented minimal example (docs/contracts/ad-platforms.md §4.2) with its placeholders filled in.
const documentedExample = `{"event_source":"web","event_source_id":"CABCD1234567890",
 "test_event_code":"TEST38291",
 "data":[{"event":"CompletePayment","event_time":1767225600,"event_id":"ord_123",
   "user":{"email":"6a6c26195c3682faa816966af789717c3bfa834eee6c599d667d2b3429c27cfd",
           "phone":"1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8",
           "external_id":"a3a4d2a6c4c0c5d0ba2d12c2d0b1c0e2f7b6d1a3c5e7f9a1b3c5d7e9f1a3b5c7","ttclid":"E.C.P.abc","ttp":"2Hcxyz","ip":"203.0.113.7","user_agent":"Mozilla/5.0 (X11)"},
   "properties":{"currency":"USD","value":42.5,"content_type":"product",
                 "contents":[{"content_id":"sku-1","quantity":1,"price":42.5}],"order_id":"ord_123"},
   "page":{"url":"https://shop.example/thanks","referrer":"https://shop.example/cart"}}]}`

func post(t *testing.T, s *Server, method, path string, header map[string]string, body string) (int, answer) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Access-Token", DefaultAccessToken)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	// A non-JSON answer (404, 405, a scripted garbage body) leaves a
	// zero answer with code -1.
	a := answer{Code: -1}
	_ = json.Unmarshal(raw, &a)
	return resp.StatusCode, a
}

func TestSpecExampleAccepted(t *testing.T) {
	s := New(WithClock(clock))
	defer s.Close()
	status, a := post(t, s, http.MethodPost, s.Path(), nil, documentedExample)
	if status != 200 || a.Code != 0 || a.Message != "OK" || a.RequestID == "" {
		t.Fatalf("got %d %+v", status, a)
	}
	if got := s.Ledger.Keys(); len(got) != 1 || got[0] != "CompletePayment\x00ord_123" {
		t.Fatalf("ledger %q", got)
	}
	// The same event + event_id again is a duplicate, still code 0.
	if _, a := post(t, s, http.MethodPost, s.Path(), nil, documentedExample); a.Code != 0 {
		t.Fatalf("resend: %+v", a)
	}
	if s.Ledger.Unique() != 1 || s.Ledger.Duplicates() != 1 {
		t.Fatalf("unique %d dups %d", s.Ledger.Unique(), s.Ledger.Duplicates())
	}
	if n := len(s.Requests()); n != 2 {
		t.Fatalf("%d requests recorded", n)
	}
}

// event is one valid event with fields replaced by edit (nil deletes).
func event(edit map[string]any) map[string]any {
	ev := map[string]any{
		"event":      "Purchase",
		"event_time": 1767225600,
		"event_id":   "d1",
		"user": map[string]any{
			"email": fakeads.Digest("buyer@example.com"),
			"ip":    "203.0.113.7",
		},
	}
	for k, v := range edit {
		if v == nil {
			delete(ev, k)
		} else {
			ev[k] = v
		}
	}
	return ev
}

func request(events ...map[string]any) string {
	b, _ := json.Marshal(map[string]any{"event_source": "web", "event_source_id": DefaultPixelCode, "data": events})
	return string(b)
}

func TestRejects(t *testing.T) {
	s := New(WithClock(clock))
	defer s.Close()
	f := func(name string, header map[string]string, body string, wantCode int, wantMsg string) {
		t.Helper()
		before := s.Ledger.Unique()
		status, a := post(t, s, http.MethodPost, s.Path(), header, body)
		if status != 200 || a.Code != wantCode || !strings.Contains(a.Message, wantMsg) {
			t.Fatalf("%s: got %d %d %q, want 200 %d containing %q", name, status, a.Code, a.Message, wantCode, wantMsg)
		}
		if s.Ledger.Unique() != before {
			t.Fatalf("%s: a refused request was counted", name)
		}
		rj := s.Rejections()
		if last := rj[len(rj)-1]; last.Code != wantCode || last.Message != a.Message {
			t.Fatalf("%s: rejection %+v", name, last)
		}
	}
	user := func(u map[string]any) map[string]any { return event(map[string]any{"user": u}) }
	ok := fakeads.Digest("buyer@example.com")

	f("missing token", map[string]string{"Access-Token": ""}, request(event(nil)), CodeBadToken, "Access token")
	f("wrong token", map[string]string{"Access-Token": "nope"}, request(event(nil)), CodeBadToken, "Access token")
	f("content type", map[string]string{"Content-Type": "text/plain"}, request(event(nil)), CodeInvalidParam, "Content-Type")
	f("not json", nil, "{", CodeInvalidParam, "Invalid JSON")
	f("unknown top-level", nil, `{"event_source":"web","event_source_id":"CABCD1234567890","pixel_code":"x","data":[]}`, CodeInvalidParam, "unknown field")
	f("source enum", nil, strings.Replace(request(event(nil)), `"web"`, `"website"`, 1), CodeInvalidParam, "event_source: Must be one of")
	f("no source id", nil, strings.Replace(request(event(nil)), `,"event_source_id":"CABCD1234567890"`, ``, 1), CodeInvalidParam, "event_source_id: Missing")
	f("other pixel", nil, strings.Replace(request(event(nil)), DefaultPixelCode, "COTHER", 1), CodeNoPermission, "No permission to operate pixel code: COTHER")
	f("empty data", nil, request(), CodeInvalidParam, "data: Length must be between 1 and 1000")

	f("unhashed email", nil, request(user(map[string]any{"email": "buyer@example.com"})), CodeInvalidParam, "Batch.0.user.email: must be a SHA-256")
	f("empty digest", nil, request(user(map[string]any{"email": fakeads.Digest("")})), CodeInvalidParam, "Batch.0.user.email: is the SHA-256 of an empty string")
	f("upper digest", nil, request(user(map[string]any{"phone": strings.ToUpper(ok)})), CodeInvalidParam, "Batch.0.user.phone: SHA-256 digest must be lower-case")
	f("unhashed in list", nil, request(user(map[string]any{"external_id": []string{ok, "u1"}})), CodeInvalidParam, "Batch.0.user.external_id: must be a SHA-256")
	f("unhashed name", nil, request(user(map[string]any{"email": ok, "first_name": "mary"})), CodeInvalidParam, "Batch.0.user.first_name")
	f("hashed city", nil, request(user(map[string]any{"email": ok, "city": ok})), CodeInvalidParam, "Batch.0.user.city: must be plain text")
	f("hashed ip", nil, request(user(map[string]any{"email": ok, "ip": ok})), CodeInvalidParam, "Batch.0.user.ip: must be plain text")
	f("upper city", nil, request(user(map[string]any{"email": ok, "city": "New York"})), CodeInvalidParam, "Batch.0.user.city")
	f("country", nil, request(user(map[string]any{"email": ok, "country": "US"})), CodeInvalidParam, "Batch.0.user.country")
	f("bad ip", nil, request(user(map[string]any{"email": ok, "ip": "1.2.3"})), CodeInvalidParam, "Batch.0.user.ip")
	f("empty plain", nil, request(user(map[string]any{"email": ok, "ttclid": " "})), CodeInvalidParam, "Batch.0.user.ttclid: empty")
	f("email number", nil, request(user(map[string]any{"email": 5})), CodeInvalidParam, "Batch.0.user.email: Not a valid string")
	f("no match key", nil, request(user(map[string]any{"ip": "203.0.113.7", "user_agent": "UA"})), CodeInvalidParam, "Batch.0.user: needs at least one")
	f("no user", nil, request(event(map[string]any{"user": nil})), CodeInvalidParam, "Batch.0.user: Missing")

	f("time in ms", nil, request(event(map[string]any{"event_time": 1767225600000})), CodeInvalidParam, "Batch.0.event_time: 1767225600000 is not a unix time in seconds")
	f("time as string", nil, request(event(map[string]any{"event_time": "1767225600"})), CodeInvalidParam, "Batch.0.event_time: Not a valid integer")
	f("time float", nil, request(event(map[string]any{"event_time": 1767225600.5})), CodeInvalidParam, "Batch.0.event_time: Not a valid integer")
	f("too old", nil, request(event(map[string]any{"event_time": 1767225600 - 8*86400})), CodeInvalidParam, "Batch.0.event_time: 1766534400 is older than")
	f("future", nil, request(event(map[string]any{"event_time": 1767225600 + 86400})), CodeInvalidParam, "is in the future")
	f("no event id", nil, request(event(map[string]any{"event_id": nil})), CodeInvalidParam, "Batch.0.event_id: Missing")
	f("no event", nil, request(event(map[string]any{"event": ""})), CodeInvalidParam, "Batch.0.event: Missing")
	f("unknown event field", nil, request(event(map[string]any{"eventTime": 1})), CodeInvalidParam, `Batch.0.unknown field "eventTime"`)
	f("ldu string", nil, request(event(map[string]any{"limited_data_use": "false"})), CodeInvalidParam, "Batch.0.limited_data_use: Not a valid bool")

	props := func(p map[string]any) map[string]any { return event(map[string]any{"properties": p}) }
	f("content_id number", nil, request(event(nil), props(map[string]any{"contents": []any{map[string]any{"content_id": 7}}})), CodeInvalidParam, "Batch.1.properties.contents.0.content_id: Not a valid string")
	f("value string", nil, request(props(map[string]any{"value": "42.5", "currency": "USD"})), CodeInvalidParam, "Batch.0.properties.value")
	f("value no currency", nil, request(props(map[string]any{"value": 1})), CodeInvalidParam, "Batch.0.properties.currency: required")
	f("currency case", nil, request(props(map[string]any{"value": 1, "currency": "usd"})), CodeInvalidParam, "Batch.0.properties.currency")
	f("content type", nil, request(props(map[string]any{"content_type": "sku"})), CodeInvalidParam, "Batch.0.properties.content_type")
	f("page url", nil, request(event(map[string]any{"page": map[string]any{"url": "/thanks"}})), CodeInvalidParam, "Batch.0.page.url")

	// One bad event refuses the whole request (all or nothing).
	f("bad second event", nil, request(event(nil), event(map[string]any{"event_id": "d2", "event_time": 1767225600000})), CodeInvalidParam, "Batch.1.event_time")
}

func TestBatchLimit(t *testing.T) {
	s := New(WithClock(clock))
	defer s.Close()
	evs := make([]map[string]any, MaxBatch+1)
	for i := range evs {
		evs[i] = event(map[string]any{"event_id": fmt.Sprint("d", i)})
	}
	if _, a := post(t, s, http.MethodPost, s.Path(), nil, request(evs...)); a.Code != CodeInvalidParam || !strings.Contains(a.Message, "data: Length") {
		t.Fatalf("1001 events: %+v", a)
	}
	if _, a := post(t, s, http.MethodPost, s.Path(), nil, request(evs[:MaxBatch]...)); a.Code != 0 {
		t.Fatalf("1000 events: %+v", a)
	}
	if s.Ledger.Unique() != MaxBatch {
		t.Fatalf("counted %d", s.Ledger.Unique())
	}
}

func TestMethodPathVersion(t *testing.T) {
	s := New(WithClock(clock), WithVersion("v1.4"), WithPixelCode("CPIX"), WithAccessToken("tok"))
	defer s.Close()
	body := strings.Replace(request(event(nil)), DefaultPixelCode, "CPIX", 1)
	tok := map[string]string{"Access-Token": "tok"}
	if status, _ := post(t, s, http.MethodPost, "/open_api/v1.3/event/track/", tok, body); status != http.StatusNotFound {
		t.Fatalf("old version: %d", status)
	}
	if status, _ := post(t, s, http.MethodPost, "/open_api/v1.4/event/track", tok, body); status != http.StatusNotFound {
		t.Fatalf("no trailing slash: %d", status)
	}
	if status, _ := post(t, s, http.MethodGet, s.Path(), tok, ""); status != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", status)
	}
	if status, a := post(t, s, http.MethodPost, s.Path(), tok, body); status != 200 || a.Code != 0 {
		t.Fatalf("good: %d %+v", status, a)
	}
	if got := s.Rejections(); len(got) != 3 || got[0].Status != 404 || got[2].Status != 405 {
		t.Fatalf("rejections %+v", got)
	}
}

func TestScriptBeforeValidation(t *testing.T) {
	s := New(WithClock(clock))
	defer s.Close()
	s.Script.Push(RateLimited("3"), ServerError(503, ""), fakeads.Fault{Status: 200, Body: "not json"})
	// Even an unauthenticated request gets the scripted answers.
	noTok := map[string]string{"Access-Token": ""}
	if status, a := post(t, s, http.MethodPost, s.Path(), noTok, "{}"); status != 200 || a.Code != CodeRateLimited {
		t.Fatalf("rate limited: %d %+v", status, a)
	}
	if status, _ := post(t, s, http.MethodPost, s.Path(), noTok, "{}"); status != 503 {
		t.Fatalf("503: %d", status)
	}
	post(t, s, http.MethodPost, s.Path(), noTok, "{}")
	if _, a := post(t, s, http.MethodPost, s.Path(), noTok, "{}"); a.Code != CodeBadToken {
		t.Fatalf("after the script: %+v", a)
	}
	reqs := s.Requests()
	if len(reqs) != 4 || reqs[0].Status != 200 || reqs[1].Status != 503 {
		t.Fatalf("requests %+v", reqs)
	}
	if len(s.Rejections()) != 1 {
		t.Fatalf("scripted faults counted as rejections: %+v", s.Rejections())
	}
}
