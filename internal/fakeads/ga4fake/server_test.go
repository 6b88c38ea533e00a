package ga4fake

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

var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

const (
	emailDigest = "6a6c26195c3682faa816966af789717c3bfa834eee6c599d667d2b3429c27cfd"
	goodQuery   = "?measurement_id=" + DefaultMeasurementID + "&api_secret=" + DefaultAPISecret
)

func post(t *testing.T, s *Server, path, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(s.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// body is a valid request with one substitution applied.
func body(userData, micros string, events string) string {
	if events == "" {
		events = `[{"name":"purchase","params":{"transaction_id":"d1","value":1.5,"currency":"EUR","engagement_time_msec":1}}]`
	}
	ud := ""
	if userData != "" {
		ud = `,"user_data":` + userData
	}
	return `{"client_id":"c1","timestamp_micros":` + micros + ud + `,"events":` + events + `}`
}

var okMicros = fmt.Sprint(now.Add(-time.Hour).UnixMicro())

func TestFakeAcceptsValid(t *testing.T) {
	s := New(WithClock(func() time.Time { return now }))
	defer s.Close()
	status, _ := post(t, s, CollectPath+goodQuery, body(`{"sha256_email_address":["`+emailDigest+`"],"address":[{"city":"berlin","country":"DE"}]}`, okMicros, ""))
	if status != http.StatusNoContent {
		t.Fatalf("status %d", status)
	}
	if r := s.Rejections(); len(r) != 0 {
		t.Fatalf("rejections %+v", r)
	}
	if s.Ledger.Unique() != 1 || s.Ledger.Keys()[0] != "c1|d1" || s.Total() != 1 {
		t.Errorf("ledger %v total %d", s.Ledger.Keys(), s.Total())
	}
}

func TestFakeRecordsViolations(t *testing.T) {
	many := make([]string, 26)
	for i := range many {
		many[i] = fmt.Sprintf(`{"name":"purchase","params":{"transaction_id":"d%d"}}`, i)
	}
	f := func(name, path, reqBody, wantCode, wantPath string) {
		t.Helper()
		s := New(WithClock(func() time.Time { return now }))
		defer s.Close()
		status, _ := post(t, s, path, reqBody)
		if status != http.StatusNoContent {
			t.Errorf("%s: status %d, want 204 (GA4 answers 2xx to everything)", name, status)
		}
		found := false
		for _, r := range s.Rejections() {
			if r.Code == wantCode && strings.HasPrefix(r.FieldPath, wantPath) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: rejections %+v, want %s at %s", name, s.Rejections(), wantCode, wantPath)
		}
		if s.Ledger.Unique() != 0 || s.Total() != 0 {
			t.Errorf("%s: invalid event counted", name)
		}
	}
	f("unhashed email", CollectPath+goodQuery, body(`{"sha256_email_address":["buyer@example.com"]}`, okMicros, ""), "VALUE_INVALID", "user_data.sha256_email_address[0]")
	f("upper-case digest", CollectPath+goodQuery, body(`{"sha256_email_address":["`+strings.ToUpper(emailDigest)+`"]}`, okMicros, ""), "VALUE_INVALID", "user_data.sha256_email_address[0]")
	f("sha256 of empty", CollectPath+goodQuery, body(`{"sha256_phone_number":["`+emptyDigest+`"]}`, okMicros, ""), "VALUE_INVALID", "user_data.sha256_phone_number[0]")
	f("hashed plain city", CollectPath+goodQuery, body(`{"address":[{"city":"`+emailDigest+`"}]}`, okMicros, ""), "VALUE_INVALID", "user_data.address[0].city")
	f("time in seconds", CollectPath+goodQuery, body("", fmt.Sprint(now.Unix()), ""), "VALUE_INVALID", "timestamp_micros")
	f("time in ms", CollectPath+goodQuery, body("", fmt.Sprint(now.UnixMilli()), ""), "VALUE_INVALID", "timestamp_micros")
	f("time too old", CollectPath+goodQuery, body("", fmt.Sprint(now.Add(-73*time.Hour).UnixMicro()), ""), "VALUE_INVALID", "timestamp_micros")
	f("time as string", CollectPath+goodQuery, body("", `"`+okMicros+`"`, ""), "VALUE_INVALID", "timestamp_micros")
	f("missing api_secret", CollectPath+"?measurement_id="+DefaultMeasurementID, body("", okMicros, ""), "AUTH", "api_secret")
	f("wrong measurement_id", CollectPath+"?measurement_id=G-OTHER&api_secret="+DefaultAPISecret, body("", okMicros, ""), "AUTH", "measurement_id")
	f("missing client_id", CollectPath+goodQuery, `{"events":[{"name":"purchase","params":{}}]}`, "VALUE_REQUIRED", "client_id")
	f("over 25 events", CollectPath+goodQuery, body("", okMicros, "["+strings.Join(many, ",")+"]"), "EXCEEDED_MAX_ENTITIES", "events")
	f("long name", CollectPath+goodQuery, body("", okMicros, `[{"name":"`+strings.Repeat("a", 41)+`","params":{}}]`), "NAME_INVALID", "events[0].name")
	f("reserved name", CollectPath+goodQuery, body("", okMicros, `[{"name":"session_start","params":{}}]`), "NAME_RESERVED", "events[0].name")
	f("value without currency", CollectPath+goodQuery, body("", okMicros, `[{"name":"purchase","params":{"value":3}}]`), "VALUE_REQUIRED", "events[0].params.currency")
	f("bad consent", CollectPath+goodQuery, `{"client_id":"c","consent":{"ad_user_data":"yes"},"events":[{"name":"purchase"}]}`, "VALUE_INVALID", "consent.ad_user_data")
	f("not json", CollectPath+goodQuery, `{"client_id":`, "VALUE_INVALID", "")
}

func TestFakeDropsOnlyBadEvents(t *testing.T) {
	s := New(WithClock(func() time.Time { return now }))
	defer s.Close()
	post(t, s, CollectPath+goodQuery, body("", okMicros,
		`[{"name":"purchase","params":{"transaction_id":"ok"}},{"name":"ga_bad","params":{"transaction_id":"bad"}}]`))
	if keys := s.Ledger.Keys(); len(keys) != 1 || keys[0] != "c1|ok" {
		t.Errorf("ledger %v, want [c1|ok]", keys)
	}
}

func TestFakeDebugEndpoint(t *testing.T) {
	s := New(WithClock(func() time.Time { return now }))
	defer s.Close()
	status, answer := post(t, s, DebugPath+goodQuery, body(`{"sha256_email_address":["x@y.z"]}`, okMicros, ""))
	var a debugAnswer
	if err := json.Unmarshal([]byte(answer), &a); err != nil || status != http.StatusOK {
		t.Fatalf("status %d answer %q: %v", status, answer, err)
	}
	if len(a.ValidationMessages) != 1 || a.ValidationMessages[0].ValidationCode != "VALUE_INVALID" {
		t.Errorf("messages %+v", a.ValidationMessages)
	}
	status, answer = post(t, s, DebugPath+goodQuery, body("", okMicros, ""))
	if status != http.StatusOK || strings.TrimSpace(answer) != `{"validationMessages":[]}` {
		t.Errorf("valid request: %d %s", status, answer)
	}
	if s.Ledger.Unique() != 0 {
		t.Error("debug endpoint counted events")
	}
	if r := s.Rejections(); len(r) != 1 || !r[0].Debug {
		t.Errorf("rejections %+v", r)
	}
}

func TestFakeMethodAndPath(t *testing.T) {
	s := New()
	defer s.Close()
	resp, err := http.Get(s.URL + CollectPath + goodQuery)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	if status, _ := post(t, s, "/collect"+goodQuery, "{}"); status != http.StatusNotFound {
		t.Errorf("wrong path: %d", status)
	}
}

func TestFakeScriptBeforeValidation(t *testing.T) {
	s := New()
	defer s.Close()
	s.Script.Push(fakeads.Fault{Status: http.StatusServiceUnavailable})
	if status, _ := post(t, s, "/anything", "not json"); status != http.StatusServiceUnavailable {
		t.Errorf("status %d", status)
	}
	if len(s.Rejections()) != 0 || len(s.Requests()) != 1 || s.Requests()[0].Status != 503 {
		t.Errorf("rejections %+v requests %d", s.Rejections(), len(s.Requests()))
	}
}
