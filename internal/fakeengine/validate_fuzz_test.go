package fakeengine

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzBodies sends arbitrary bodies to the event and contact routes of an
// unlistened fake: the answer is always 202/200 or a 400 in one of the
// engine's two shapes, a ZodError's message is a JSON array of issues, and
// an accepted body is what the schema promised.
func FuzzBodies(f *testing.F) {
	for _, seed := range []string{
		`{"name":"n","userId":"u"}`,
		`{"name":"order.paid","email":"Ada@Example.com","value":49.5,"currency":"usd","groups":{"co":"acme"}}`,
		`{"name":"","email":" a@b.co","currency":"us","timestamp":"2026-01-01T00:00:00+02:00"}`,
		`{"name":"n","userId":"u","timestamp":"2026-02-30T25:61:00Z"}`,
		`{"name":"n","anonymousId":"` + strings.Repeat("a", 201) + `"}`,
		`{"name":"n","userId":"u","groups":{"":""},"lists":{"x":1}}`,
		`{"email":"a..b@c.de","userId":"   "}`,
		`{"email":".a@b.co","userId":"u"}`,
		`{"name":"n","userId":"😀"}`,
		`[]`, `null`, `"x"`, `{`, ``,
	} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	s := newServer(Options{})
	key := s.MintKey(ScopeIngest)
	f.Fuzz(func(t *testing.T, body string, event bool) {
		method, path := "PUT", "/v1/contacts"
		if event {
			method, path = "POST", "/v1/events"
		}
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		before := storedSoFar(s)
		s.ServeHTTP(w, req)
		checkFuzzAnswer(t, w.Code, w.Body.Bytes(), event, int(storedSoFar(s)-before))
		if w.Code < 300 {
			checkAccepted(t, body, event)
		}
	})
}

func checkFuzzAnswer(t *testing.T, status int, body []byte, event bool, stored int) {
	t.Helper()
	var answer map[string]any
	if err := json.Unmarshal(body, &answer); err != nil {
		t.Fatalf("%d answer is not a JSON object: %q", status, body)
	}
	switch {
	case status == http.StatusAccepted && event:
		if stored != 1 || answer["contactKey"] == "" {
			t.Fatalf("202 stored %d: %s", stored, body)
		}
	case status == http.StatusOK && !event:
		if answer["id"] == nil {
			t.Fatalf("200 without id: %s", body)
		}
	case status == http.StatusBadRequest:
		checkRefusal(t, answer, body)
	default:
		t.Fatalf("unexpected %d: %s", status, body)
	}
}

func checkRefusal(t *testing.T, answer map[string]any, body []byte) {
	t.Helper()
	if msg, isStr := answer["error"].(string); isStr {
		if msg != msgMalformed && msg != msgIdentityRequired && msg != msgNoEmailForLists {
			t.Fatalf("refusal %q", msg)
		}
		return
	}
	zerr, isObj := answer["error"].(map[string]any)
	if !isObj || answer["success"] != false || zerr["name"] != "ZodError" {
		t.Fatalf("400 in neither shape: %s", body)
	}
	var issues []zodIssue
	if err := json.Unmarshal([]byte(zerr["message"].(string)), &issues); err != nil || len(issues) == 0 {
		t.Fatalf("ZodError message is not an array of issues: %s", body)
	}
}

// checkAccepted re-reads an accepted body: the fields the schema checks
// hold what it promised.
func checkAccepted(t *testing.T, body string, event bool) {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("accepted a body that is not an object: %q", body)
	}
	if e, has := v["email"].(string); has && !validEmail(e) {
		t.Fatalf("accepted email %q", e)
	}
	if event {
		if n, _ := v["name"].(string); n == "" {
			t.Fatalf("accepted an event without a name: %q", body)
		}
		if c, has := v["currency"].(string); has && !currencyRE.MatchString(c) {
			t.Fatalf("accepted currency %q", c)
		}
		if ts, has := v["timestamp"].(string); has {
			if _, good := parseDatetime(ts); !good {
				t.Fatalf("accepted timestamp %q", ts)
			}
		}
	}
}

func storedSoFar(s *Server) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}
