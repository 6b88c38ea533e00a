package fakeengine

import (
	"testing"
)

var onboarding = Journey{ID: "onboarding", Trigger: "user.signed_up", ExitOn: []ExitRule{
	{Event: "order.paid", Where: []Condition{{Property: "amount", Operator: "gte", Value: 10}}},
	{Event: "user.deleted"},
}}

var noExit = Journey{ID: "welcome", Trigger: "user.signed_up"}

// TestJourneyExits: a trigger enters once; exits lists the live states
// whose journey has exitOn, exited when the event matches
// (docs/contracts/hogsend-api.md §5.3).
func TestJourneyExits(t *testing.T) {
	f := start(t, Options{Journeys: []Journey{onboarding, noExit}})
	event := func(body string) map[string]any {
		t.Helper()
		r := f.send("POST", "/v1/events", f.ingest, body)
		if r.status != 202 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		return r.json(t)
	}
	if a := event(`{"name":"user.signed_up","userId":"u_1"}`); len(a["exits"].([]any)) != 0 {
		t.Fatalf("the trigger's own answer has no exits: %v", a)
	}
	event(`{"name":"user.signed_up","userId":"u_1"}`)
	states := f.States()
	if len(states) != 2 || states[0].JourneyID != "onboarding" || states[0].Status != StatusActive || states[1].JourneyID != "welcome" {
		t.Fatalf("states after two triggers: %+v", states)
	}
	miss := event(`{"name":"order.paid","userId":"u_1","eventProperties":{"amount":"12"}}`)
	golden(t, "exits_not_matched", jsonText(t, miss))
	hit := event(`{"name":"order.paid","userId":"u_1","eventProperties":{"amount":12}}`)
	golden(t, "exits_matched", jsonText(t, hit))
	if st := f.States()[0]; st.Status != StatusExited || st.ExitedBy != f.Events()[3].ID {
		t.Fatalf("exited state: %+v", st)
	}
	if after := event(`{"name":"order.paid","userId":"u_1","eventProperties":{"amount":12}}`); len(after["exits"].([]any)) != 0 {
		t.Fatalf("an exited state is not live: %v", after)
	}
	// Re-entry after exit; another person's events do not touch it.
	event(`{"name":"user.signed_up","userId":"u_1"}`)
	if other := event(`{"name":"user.deleted","userId":"u_2"}`); len(other["exits"].([]any)) != 0 {
		t.Fatalf("another subject: %v", other)
	}
	if n := len(f.States()); n != 3 {
		t.Fatalf("%d states, want a second onboarding run", n)
	}
}

// TestJourneyFollowsMerge: a merged-away contact's state belongs to the
// survivor, so the survivor's events exit it.
func TestJourneyFollowsMerge(t *testing.T) {
	f := start(t, Options{Journeys: []Journey{onboarding}})
	f.send("POST", "/v1/events", f.ingest, `{"name":"user.signed_up","email":"m@b.co"}`)
	f.send("PUT", "/v1/contacts", f.ingest, `{"userId":"u_m"}`)
	f.send("PUT", "/v1/contacts", f.ingest, `{"userId":"u_m","email":"m@b.co"}`)
	r := f.send("POST", "/v1/events", f.ingest, `{"name":"user.deleted","userId":"u_m"}`).json(t)
	exits := r["exits"].([]any)
	if len(exits) != 1 || exits[0].(map[string]any)["exited"] != true {
		t.Fatalf("exits after merge: %v", r)
	}
}

func TestConditions(t *testing.T) {
	props := map[string]any{"n": float64(5), "s": "hello", "b": true, "null": nil, "obj": map[string]any{}}
	f := func(c Condition, want bool) {
		t.Helper()
		if got := conditionsHold([]Condition{c}, props); got != want {
			t.Fatalf("%+v: %v, want %v", c, got, want)
		}
	}
	f(Condition{"n", "eq", 5}, true)
	f(Condition{"n", "eq", "5"}, false)
	f(Condition{"s", "eq", "hello"}, true)
	f(Condition{"b", "eq", true}, true)
	f(Condition{"obj", "eq", map[string]any{}}, false)
	f(Condition{"n", "neq", "5"}, true)
	f(Condition{"missing", "neq", 1}, true)
	f(Condition{"n", "gt", 4}, true)
	f(Condition{"n", "gte", 5.0}, true)
	f(Condition{"n", "lt", 5}, false)
	f(Condition{"n", "lte", 5}, true)
	f(Condition{"s", "gt", "a"}, false)
	f(Condition{"n", "gt", "4"}, false)
	f(Condition{"s", "contains", "ell"}, true)
	f(Condition{"n", "contains", "5"}, false)
	f(Condition{"null", "exists", nil}, false)
	f(Condition{"s", "exists", nil}, true)
	f(Condition{"null", "not_exists", nil}, true)
	f(Condition{"missing", "not_exists", nil}, true)
	f(Condition{"s", "regex", "h"}, false)
}
