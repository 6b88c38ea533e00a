package fakeengine

import (
	"strings"
	"time"
)

// Journey is a journey the fake runs: an event named Trigger enters its
// subject; an event matching an ExitOn rule exits a live state
// (docs/contracts/hogsend-api.md §5.3).
type Journey struct {
	ID      string
	Trigger string
	ExitOn  []ExitRule
}

// ExitRule matches an event by name and, when Where is not empty, by
// every condition on its eventProperties.
type ExitRule struct {
	Event string
	Where []Condition
}

// Condition is {property, operator, value}; operators eq, neq, gt, gte,
// lt, lte, exists, not_exists, contains (docs/contracts/hogsend-api.md §7.2).
type Condition struct {
	Property string
	Operator string
	Value    any
}

// Journey state statuses.
const (
	StatusActive = "active"
	StatusExited = "exited"
)

// JourneyState is one subject's run of a journey.
type JourneyState struct {
	ID        string
	JourneyID string
	UserID    string // the canonical key when it entered
	ContactID string // "" for an anonymous observation's subject
	Status    string
	EnteredAt time.Time
	ExitedAt  time.Time
	// EnteredBy and ExitedBy are the ids of the events that did it.
	EnteredBy string
	ExitedBy  string
}

func (st *JourneyState) live() bool { return st.Status == StatusActive }

// subject names whose states these are: the contact when there is one,
// else the user id (an anonymous observation's subject).
func subject(contact *Contact, userID string) string {
	if contact != nil {
		return "c:" + contact.ID
	}
	return "u:" + userID
}

// checkExits answers every live state of the subject whose journey has
// exitOn, exiting those ev matches. Called with s.mu held.
func (s *Server) checkExits(contact *Contact, userID string, ev *Event) []Exit {
	exits := []Exit{}
	for _, st := range s.bySubject[subject(contact, userID)] {
		j := s.journeys[st.JourneyID]
		if !st.live() || j == nil || len(j.ExitOn) == 0 {
			continue
		}
		matched := exitMatches(j.ExitOn, ev)
		if matched {
			st.Status, st.ExitedAt, st.ExitedBy = StatusExited, ev.OccurredAt, ev.ID
		}
		exits = append(exits, Exit{JourneyID: j.ID, StateID: st.ID, Exited: matched})
	}
	return exits
}

func exitMatches(rules []ExitRule, ev *Event) bool {
	for _, r := range rules {
		if r.Event == ev.Name && conditionsHold(r.Where, ev.EventProperties) {
			return true
		}
	}
	return false
}

// enterJourneys starts every journey ev triggers, unless the subject has a
// live state of it already. Called with s.mu held.
func (s *Server) enterJourneys(contact *Contact, userID string, ev *Event) {
	for _, j := range s.opts.Journeys {
		if j.Trigger != ev.Name || s.liveState(j.ID, contact, userID) != nil {
			continue
		}
		st := &JourneyState{ID: newUUID(), JourneyID: j.ID, UserID: userID, Status: StatusActive,
			EnteredAt: ev.OccurredAt, EnteredBy: ev.ID}
		if contact != nil {
			st.ContactID = contact.ID
		}
		s.states = append(s.states, st)
		key := subject(contact, userID)
		s.bySubject[key] = append(s.bySubject[key], st)
	}
}

func (s *Server) liveState(journeyID string, contact *Contact, userID string) *JourneyState {
	for _, st := range s.bySubject[subject(contact, userID)] {
		if st.JourneyID == journeyID && st.live() {
			return st
		}
	}
	return nil
}

// moveJourneyStates gives the losers' states to the survivor; where both
// have a live state of one journey, the loser's is exited (a merge).
func (s *Server) moveJourneyStates(losers []*Contact, survivor *Contact, now time.Time) {
	into := subject(survivor, "")
	for _, l := range losers {
		from := subject(l, "")
		for _, st := range s.bySubject[from] {
			if st.live() && s.liveState(st.JourneyID, survivor, "") != nil {
				st.Status, st.ExitedAt = StatusExited, now
			}
			st.ContactID = survivor.ID
			s.bySubject[into] = append(s.bySubject[into], st)
		}
		delete(s.bySubject, from)
	}
}

// conditionsHold ANDs conds over the top-level keys of props.
func conditionsHold(conds []Condition, props map[string]any) bool {
	for _, c := range conds {
		v, present := props[c.Property]
		if !conditionHolds(c, v, present) {
			return false
		}
	}
	return true
}

// conditionHolds: strict equality without coercion, numbers only for the
// ordering operators, substring on strings, exists = present and not null.
func conditionHolds(c Condition, v any, present bool) bool {
	switch c.Operator {
	case "exists":
		return present && v != nil
	case "not_exists":
		return !present || v == nil
	case "eq":
		return present && strictEqual(v, c.Value)
	case "neq":
		return !present || !strictEqual(v, c.Value)
	case "contains":
		hay, isStr := v.(string)
		needle, needleStr := c.Value.(string)
		return isStr && needleStr && strings.Contains(hay, needle)
	case "gt", "gte", "lt", "lte":
		return orderHolds(c.Operator, v, c.Value)
	}
	return false
}

func orderHolds(op string, v, want any) bool {
	a, aNum := asNumber(v)
	b, bNum := asNumber(want)
	if !aNum || !bNum {
		return false
	}
	switch op {
	case "gt":
		return a > b
	case "gte":
		return a >= b
	case "lt":
		return a < b
	default:
		return a <= b
	}
}

// strictEqual is JavaScript's === on JSON scalars; objects and arrays are
// never equal to a literal.
func strictEqual(a, b any) bool {
	if x, isNum := asNumber(a); isNum {
		y, bothNum := asNumber(b)
		return bothNum && x == y
	}
	switch x := a.(type) {
	case string:
		y, isStr := b.(string)
		return isStr && x == y
	case bool:
		y, isBool := b.(bool)
		return isBool && x == y
	case nil:
		return b == nil
	}
	return false
}

// asNumber reads JSON numbers (float64) and the Go numbers a test writes
// in a Condition.
func asNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	}
	return 0, false
}
