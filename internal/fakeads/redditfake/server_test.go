package redditfake

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

var (
	testNow = time.UnixMilli(1767225600000 + 3_600_000).UTC() // 2026-01-01T01:00Z
	eventAt = "1767225600000"                                 // 2026-01-01T00:00Z
	digest  = "6a6c26195c3682faa816966af789717c3bfa834eee6c599d667d2b3429c27cfd"
)

func newFake(t *testing.T) *Server {
	t.Helper()
	s := New(WithClock(func() time.Time { return testNow }))
	t.Cleanup(s.Close)
	return s
}

// post sends body with the default headers, changed by hdr ("" deletes).
func post(t *testing.T, s *Server, path string, hdr map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+DefaultToken)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// ev is a valid event with fields replaced: key → raw JSON ("" removes).
func ev(id string, edits ...string) string {
	fields := [][2]string{
		{"event_at", eventAt},
		{"action_source", `"WEBSITE"`},
		{"event_source_url", `"https://shop.example/thanks"`},
		{"click_id", `"cid-1"`},
		{"type", `{"tracking_type":"PURCHASE"}`},
		{"user", `{"email":"` + digest + `","user_agent":"Mozilla/5.0","uuid":"1767000000000.3f1c"}`},
		{"metadata", `{"conversion_id":"` + id + `","currency":"USD","value":42.5}`},
	}
	for i := 0; i+1 < len(edits); i += 2 {
		found := false
		for j := range fields {
			if fields[j][0] == edits[i] {
				fields[j][1], found = edits[i+1], true
			}
		}
		if !found {
			fields = append(fields, [2]string{edits[i], edits[i+1]})
		}
	}
	var b strings.Builder
	b.WriteByte('{')
	for _, f := range fields {
		if f[1] == "" {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%s", f[0], f[1])
	}
	b.WriteByte('}')
	return b.String()
}

func events(evs ...string) string { return `{"data":{"events":[` + strings.Join(evs, ",") + `]}}` }

func TestAcceptsValidBatchAndDedups(t *testing.T) {
	s := newFake(t)
	status, body := post(t, s, s.Path(), nil, events(ev("c1"), ev("c2"), ev("c1")))
	if status != 200 || body != `{"data":{"message":"Successfully processed 3 conversion events."}}` {
		t.Fatalf("got %d %s", status, body)
	}
	if s.Ledger.Unique() != 2 || s.Ledger.Duplicates() != 1 {
		t.Fatalf("ledger unique %d dups %d, want 2 and 1", s.Ledger.Unique(), s.Ledger.Duplicates())
	}
	if reqs := s.Requests(); len(reqs) != 1 || reqs[0].Status != 200 || reqs[0].Method != "POST" {
		t.Fatalf("recorded %+v", reqs)
	}
}

// Every event-level mistake: 400 with invalid_events, and nothing counted.
func TestRefusesInvalidEvents(t *testing.T) {
	f := func(event, wantMsg string) {
		t.Helper()
		s := newFake(t)
		// A valid event beside the bad one: Reddit processes neither.
		status, body := post(t, s, s.Path(), nil, events(ev("ok"), event))
		if status != 400 {
			t.Fatalf("%s: status %d %s, want 400", event, status, body)
		}
		if !strings.HasPrefix(body, `{"message":"There were 1 invalid conversion events. None were processed.","invalid_events":[{"error_message":"`) ||
			!strings.Contains(body, wantMsg) {
			t.Fatalf("%s: body %s lacks %q", event, body, wantMsg)
		}
		if s.Ledger.Unique() != 0 {
			t.Fatal("counted events of a refused request")
		}
		rs := s.Rejections()
		if len(rs) != 1 || rs[0].Event != 1 || !strings.Contains(rs[0].Reason, strings.ReplaceAll(wantMsg, `\"`, `"`)) {
			t.Fatalf("rejections %+v", rs)
		}
	}
	user := func(fields string) string { return `{` + fields + `}` }
	f(ev("x", "user", user(`"email":"buyer@example.com"`)), "user.email: must be a lower-case hex sha256 digest")
	f(ev("x", "user", user(`"email":"`+strings.ToUpper(digest)+`"`)), "user.email: must be a lower-case hex sha256 digest")
	f(ev("x", "user", user(`"phone_number":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"`)), "user.phone_number: sha256 of an empty string")
	f(ev("x", "user", user(`"ip_address":"203.0.113.7"`)), "user.ip_address: must be a lower-case hex")
	f(ev("x", "user", user(`"uuid":"`+digest+`"`)), "user.uuid: is sent plain")
	f(ev("x", "user", user(`"user_agent":""`)), "user.user_agent: empty")
	f(ev("x", "click_id", `"`+digest+`"`), "click_id: is sent plain")
	f(ev("x", "event_at", "1767225600"), "not a unix timestamp in milliseconds")
	f(ev("x", "event_at", "1767225600000000"), "not a unix timestamp in milliseconds")
	f(ev("x", "event_at", fmt.Sprint(testNow.Add(-MaxAge).UnixMilli())), "event_at timestamp must be less than 168h0m0s old")
	f(ev("x", "event_at", fmt.Sprint(testNow.Add(MaxFuture+time.Second).UnixMilli())), "in the future")
	f(ev("x", "event_at", ""), "event_at: required")
	f(ev("x", "action_source", `"website"`), `action_source: invalid value \"website\"`)
	f(ev("x", "action_source", `"APP"`), "event_source_url: only allowed with action_source WEBSITE")
	f(ev("x", "event_source_url", `"/thanks"`), "not an absolute http(s) URL")
	f(ev("x", "type", `{"tracking_type":"Purchase"}`), "type.tracking_type: invalid value")
	f(ev("x", "type", `{"tracking_type":"CUSTOM"}`), "type.custom_event_name: required for CUSTOM")
	f(ev("x", "type", `{"tracking_type":"CUSTOM","custom_event_name":"`+strings.Repeat("n", 65)+`"}`), "longer than 64")
	f(ev("x", "type", `{"tracking_type":"LEAD","custom_event_name":"n"}`), "only allowed for CUSTOM")
	f(ev("x", "type", `{"tracking_type":"PAGE_VISIT"}`), "metadata.value: not allowed for PAGE_VISIT")
	f(ev("x", "metadata", `{"conversion_id":"x","value":1}`), "metadata.currency: required with value")
	f(ev("x", "metadata", `{"conversion_id":"x","currency":"usd","value":1}`), "not an upper-case ISO 4217 code")
	f(ev("x", "metadata", `{"conversion_id":"x","item_count":1}`, "type", `{"tracking_type":"LEAD"}`), "metadata.item_count: not allowed for LEAD")
	f(ev("x", "metadata", `{"currency":"USD","value":1}`), "metadata.conversion_id: required")
	f(ev("x", "click_id", "", "user", `{"user_agent":"UA"}`), "at least one of click_id")
	f(ev("x", "user", user(`"uuid":"u","data_processing_options":{"modes":["LDU"]}`)), "country: required with LDU")
	f(ev("x", "user", user(`"uuid":"u","data_processing_options":{"modes":["LDU"],"country":"US","region":"CA"}`)), "region")
	f(ev("x", "user", user(`"uuid":"u","data_processing_options":{"modes":["LDU"],"country":"us"}`)), "country")
	f(ev("x", "user", user(`"uuid":"u","data_processing_options":{"modes":["OFF"],"country":"US"}`)), `modes: invalid value \"OFF\"`)
	f(ev("x", "event_metadata", `{}`), `unknown field \"event_metadata\"`)
}

func TestRefusesRequests(t *testing.T) {
	f := func(method, path string, hdr map[string]string, body string, wantStatus int, wantBody string) {
		t.Helper()
		s := newFake(t)
		if path == "" {
			path = s.Path()
		}
		var status int
		var got string
		if method == http.MethodPost {
			status, got = post(t, s, path, hdr, body)
		} else {
			resp, err := http.Get(s.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			status, got = resp.StatusCode, strings.TrimSpace(string(b))
		}
		if status != wantStatus || !strings.Contains(got, wantBody) {
			t.Fatalf("%s %s: got %d %s, want %d %q", method, path, status, got, wantStatus, wantBody)
		}
		if s.Ledger.Unique() != 0 || len(s.Rejections()) != 1 || s.Rejections()[0].Event != -1 {
			t.Fatalf("ledger %d rejections %+v", s.Ledger.Unique(), s.Rejections())
		}
	}
	valid := events(ev("c1"))
	f("POST", "", map[string]string{"Authorization": ""}, valid, 401, "Authorization Required")
	f("POST", "", map[string]string{"Authorization": DefaultToken}, valid, 401, "Authorization Required")
	f("POST", "", map[string]string{"Authorization": "Bearer wrong"}, valid, 401,
		`{"success":false,"error":{"reason":"UNAUTHORIZED","explanation":"This server could not verify`)
	f("GET", "", nil, "", 405, "method not allowed")
	f("POST", "/api/v2.0/conversions/events/t2_abc", nil, valid, 404, "NOT_FOUND")
	f("POST", "/api/v3/pixels/a2_other/conversion_events", nil, valid, 404, "pixel a2_other not found")
	f("POST", "", map[string]string{"Content-Type": "text/plain"}, valid, 400, "Content-Type")
	f("POST", "", nil, `{"data":`, 400, "invalid JSON")
	f("POST", "", nil, `{"events":[]}`, 400, `unknown field \"events\"`)
	f("POST", "", nil, `{"data":{"events":[]}}`, 400, "at least one event")
	f("POST", "", nil, `{"data":{"test_id":"","events":[`+ev("c1")+`]}}`, 400, "test_id")
	// Wrong JSON types: Reddit's 403 "JSON error unexpected type …".
	f("POST", "", nil, events(ev("c1", "event_at", `"1767225600000"`)), 403, "JSON error unexpected type string on field events event_at")
	f("POST", "", nil, events(ev("c1", "event_at", `1767225600000.5`)), 403, "on field events event_at")
	f("POST", "", nil, events(ev("c1", "metadata", `{"conversion_id":"c1","currency":"USD","value":"42.5"}`)), 403, "on field events metadata value")
	// Oversize batch.
	many := make([]string, MaxBatch+1)
	for i := range many {
		many[i] = ev(fmt.Sprint("c", i))
	}
	f("POST", "", nil, events(many...), 400, "There were 1001 conversion events. At most 1000")
}

func TestBatchAtLimitAccepted(t *testing.T) {
	s := newFake(t)
	many := make([]string, MaxBatch)
	for i := range many {
		many[i] = ev(fmt.Sprint("c", i))
	}
	if status, body := post(t, s, s.Path(), nil, events(many...)); status != 200 {
		t.Fatalf("got %d %s", status, body)
	}
	if s.Ledger.Unique() != MaxBatch {
		t.Fatalf("ledger %d", s.Ledger.Unique())
	}
}

func TestTestEventsNotCounted(t *testing.T) {
	s := newFake(t)
	status, _ := post(t, s, s.Path(), nil, `{"data":{"test_id":"t2_test_abc","events":[`+ev("c1")+`]}}`)
	if status != 200 || s.Ledger.Unique() != 0 {
		t.Fatalf("status %d ledger %d", status, s.Ledger.Unique())
	}
	if te := s.TestEvents(); len(te) != 1 || te[0] != (TestEvent{TestID: "t2_test_abc", ConversionID: "c1"}) {
		t.Fatalf("test events %+v", te)
	}
}

// Scripted faults come before any validation, even of auth.
func TestScriptBeforeValidation(t *testing.T) {
	s := newFake(t)
	s.Script.Push(fakeads.Fault{Status: 429, Header: map[string]string{"Retry-After": "3"}, Body: `{"message":"slow down"}`})
	status, body := post(t, s, s.Path(), map[string]string{"Authorization": ""}, "not json")
	if status != 429 || body != `{"message":"slow down"}` {
		t.Fatalf("got %d %s", status, body)
	}
	if status, _ := post(t, s, s.Path(), nil, events(ev("c1"))); status != 200 {
		t.Fatalf("after the fault: %d", status)
	}
	s.Script.Down(fakeads.Fault{Status: 503})
	if status, _ := post(t, s, s.Path(), nil, events(ev("c2"))); status != 503 {
		t.Fatalf("outage: %d", status)
	}
	s.Script.Up()
	reqs := s.Requests()
	if len(reqs) != 3 || reqs[0].Status != 429 || reqs[1].Status != 200 || reqs[2].Status != 503 {
		t.Fatalf("recorded %+v", reqs)
	}
	if s.Ledger.Unique() != 1 {
		t.Fatalf("ledger %d", s.Ledger.Unique())
	}
}
