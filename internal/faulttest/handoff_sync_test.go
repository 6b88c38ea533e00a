package faulttest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeengine"
)

// callJSON sends one data-API request with the stack's key and decodes
// the JSON answer.
func (s *stack) callJSON(method, path, body string) (int, map[string]any) {
	s.t.Helper()
	status, out := s.call(method, path, s.key, body)
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		s.t.Fatalf("%s %s answered %d %q", method, path, status, out)
	}
	return status, m
}

var onboarding = fakeengine.Journey{ID: "onboarding", Trigger: "user.signed_up",
	ExitOn: []fakeengine.ExitRule{{Event: "user.activated"}}}

// TestHandOffSyncAnswers (issue 12): in sync mode, native writes answer
// with the engine's body (its contact ids, its journeys' exits); an event
// starts the engine's journey and the next one exits it; when the engine
// is too slow the proxy answers from its own state and the event still
// reaches the engine once.
func TestHandOffSyncAnswers(t *testing.T) {
	s, eng := engineStack(t, fakeengine.Options{Journeys: []fakeengine.Journey{onboarding}},
		"HOGSEND_UPSTREAM_MODE=sync", "HOGSEND_UPSTREAM_SYNC_TIMEOUT=1s")
	s.start()
	status, ans := s.callJSON("POST", "/v1/events", `{"name":"user.signed_up","userId":"sync-1","email":"sync-1@example.com"}`)
	if status != 202 || ans["stored"] != true || ans["contactKey"] != "sync-1" {
		t.Fatalf("signed_up answered %d %v", status, ans)
	}
	states := eng.States()
	if len(states) != 1 || states[0].JourneyID != "onboarding" || states[0].Status != fakeengine.StatusActive {
		t.Fatalf("journey states after signed_up: %+v", states)
	}
	status, ans = s.callJSON("POST", "/v1/events", `{"name":"user.activated","userId":"sync-1"}`)
	exits, _ := ans["exits"].([]any)
	if status != 202 || len(exits) != 1 {
		t.Fatalf("activated answered %d %v, want the engine's exit", status, ans)
	}
	if exit := exits[0].(map[string]any); exit["journeyId"] != "onboarding" || exit["exited"] != true || exit["stateId"] != states[0].ID {
		t.Fatalf("exit %v, want onboarding's state %s exited", exit, states[0].ID)
	}

	status, ans = s.callJSON("PUT", "/v1/contacts", `{"userId":"sync-1","properties":{"plan":"pro"}}`)
	engineContact, ok := eng.Contact("sync-1")
	if status != 200 || !ok || ans["id"] != engineContact.ID || ans["linked"] != true || engineContact.Properties["plan"] != "pro" {
		t.Fatalf("upsert answered %d %v; engine contact %+v", status, ans, engineContact)
	}

	eng.Script.SetLatency(3 * time.Second)
	status, ans = s.callJSON("POST", "/v1/events", `{"name":"slow.engine","userId":"sync-1","idempotencyKey":"slow-1"}`)
	if status != 202 || ans["stored"] != true || ans["contactKey"] != "sync-1" || len(ans["exits"].([]any)) != 0 {
		t.Fatalf("an event the engine is slow to take answered %d %v, want the proxy's own answer", status, ans)
	}
	waitMetric(t, s.base, `hogsend_engine_answers_total{outcome="timeout"}`, 1)
	deadline := time.Now().Add(30 * time.Second)
	for eng.StoredCount("slow-1") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the slow event never reached the engine")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHandOffFindAndDelete (issue 12): find and delete are the engine's
// answers, for contacts the proxy never saw too; a delete is applied here
// as well; with the engine away, find answers from the proxy's state.
func TestHandOffFindAndDelete(t *testing.T) {
	s, eng := engineStack(t, fakeengine.Options{})
	s.start()
	direct, _ := http.NewRequest("PUT", eng.URL()+"/v1/contacts", strings.NewReader(`{"email":"only@engine.example","properties":{"from":"import"}}`))
	direct.Header.Set("Authorization", "Bearer "+eng.MintKey("ingest"))
	direct.Header.Set("Content-Type", "application/json")
	if resp, err := plainClient.Do(direct); err != nil || resp.StatusCode != 200 {
		t.Fatalf("contact created at the engine: %v %v", resp, err)
	}
	status, ans := s.callJSON("GET", "/v1/contacts/find?email=only@engine.example", "")
	found, _ := ans["contacts"].([]any)
	if status != 200 || len(found) != 1 || found[0].(map[string]any)["email"] != "only@engine.example" {
		t.Fatalf("find answered %d %v, want the engine's contact", status, ans)
	}
	if status, ans = s.callJSON("DELETE", "/v1/contacts", `{"email":"only@engine.example"}`); status != 200 || ans["deleted"] != true {
		t.Fatalf("delete of the engine's contact answered %d %v", status, ans)
	}
	if _, ok := eng.Contact("only@engine.example"); ok {
		t.Fatal("the engine's contact is still live")
	}
	if status, ans = s.callJSON("DELETE", "/v1/contacts", `{"email":"nobody@example.com"}`); status != 404 || ans["error"] != "Contact not found" {
		t.Fatalf("delete of nobody answered %d %v", status, ans)
	}

	// A contact of the proxy's: deleted at both ends.
	if status, _ := s.callJSON("PUT", "/v1/contacts", `{"userId":"both-1","email":"both-1@example.com"}`); status != 200 {
		t.Fatalf("upsert answered %d", status)
	}
	waitEngineContact(t, eng, "both-1", true)
	if status, ans = s.callJSON("DELETE", "/v1/contacts", `{"userId":"both-1"}`); status != 200 || ans["deleted"] != true {
		t.Fatalf("delete answered %d %v", status, ans)
	}
	waitEngineContact(t, eng, "both-1", false)
	eng.Stop()
	status, ans = s.callJSON("GET", "/v1/contacts/find?userId=both-1", "")
	if left, _ := ans["contacts"].([]any); status != 200 || len(left) != 0 {
		t.Fatalf("find with the engine away answered %d %v, want the proxy's state: deleted", status, ans)
	}
}

func waitEngineContact(t *testing.T, eng *fakeengine.Server, key string, live bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, ok := eng.Contact(key); ok == live {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("engine contact %s live = %v within 30 s, want %v", key, !live, live)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
