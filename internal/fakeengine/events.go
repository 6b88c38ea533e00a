package fakeengine

import (
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Event is one stored event (docs/contracts/hogsend-api.md §5).
type Event struct {
	Seq             int64 // order of storage across the fake, from 1
	ID              string
	Name            string
	UserID          string // the contact's canonical key when stored
	ContactID       string // "" for a publishable key's anonymous observation
	EventProperties map[string]any
	Groups          map[string]string
	Value           *float64
	Currency        string // upper case; "" without a value
	Source          string // "api" for a secret key, "inapp" for a publishable one
	IdempotencyKey  string
	OccurredAt      time.Time
}

// eventBody is POST /v1/events' body once its schema passed (§5.1).
type eventBody struct {
	name              string
	keys              identityKeys
	eventProperties   map[string]any
	contactProperties map[string]any
	value             *float64
	currency          string
	lists             map[string]bool
	hasLists          bool
	groups            map[string]string
	hasGroups         bool
	idempotencyKey    string
	timestamp         time.Time
	hasTimestamp      bool
	userToken         string
}

var currencyRE = regexp.MustCompile(`^[A-Za-z]{3}$`)

const currencyPattern = `/^[A-Za-z]{3}$/`

func parseEventBody(v any) (eventBody, *schema) {
	sc := newSchema(v)
	var b eventBody
	b.name, _ = sc.requiredStr("name", 1)
	email, _ := sc.email("email")
	userID, _ := sc.str("userId", 1, 0)
	anon, _ := sc.str("anonymousId", 1, 200)
	b.keys = normalise(email, userID, anon)
	b.eventProperties, _ = sc.record("eventProperties")
	b.contactProperties, _ = sc.record("contactProperties")
	if f, has := sc.number("value"); has {
		b.value = &f
	}
	b.currency, _ = sc.match("currency", currencyRE, currencyPattern)
	b.lists, b.hasLists = sc.boolRecord("lists")
	b.groups, b.hasGroups = sc.stringRecord("groups")
	b.idempotencyKey, _ = sc.str("idempotencyKey", 0, 0)
	b.timestamp, b.hasTimestamp = sc.datetime("timestamp")
	b.userToken, _ = sc.str("userToken", 0, 0)
	return b, sc
}

// Exit is one journey state's exit check, as POST /v1/events answers it.
type Exit struct {
	JourneyID string `json:"journeyId"`
	StateID   string `json:"stateId"`
	Exited    bool   `json:"exited"`
}

type ingestAnswer struct {
	Stored     bool   `json:"stored"`
	Exits      []Exit `json:"exits"`
	ContactKey string `json:"contactKey"`
	ListsError string `json:"listsError,omitempty"`
}

const suspendedMessage = "Event ingest is suspended for this instance (plan limit reached or billing hold). Already-accepted events are unaffected."

// ingestEvent is POST /v1/events (§5.2).
func (s *Server) ingestEvent(c *call) answer {
	if s.opts.IngestSuspended {
		return ok(http.StatusTooManyRequests, map[string]string{"error": "ingest_suspended", "message": suspendedMessage})
	}
	v, bad := decodeBody(c.r, c.body)
	if bad != nil {
		return *bad
	}
	b, sc := parseEventBody(v)
	if sc.failed() {
		return sc.answer()
	}
	if a := s.gateIdentity(c.p, b.keys, b.userToken); a != nil {
		return *a
	}
	b.idempotencyKey = idempotencyKey(c.r, b.idempotencyKey)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ingestLocked(c, &b)
}

// idempotencyKey: the header wins over the body whenever it is sent, even
// empty; empty means none (§5.4).
func idempotencyKey(r *http.Request, body string) string {
	if vals := r.Header.Values("Idempotency-Key"); len(vals) > 0 {
		return vals[0]
	}
	return body
}

// ingestLocked resolves, dedups, stores and runs journeys, with s.mu held.
func (s *Server) ingestLocked(c *call, b *eventBody) answer {
	if c.p.publishable && s.attachesIdentified(b.keys) {
		return refuse(http.StatusForbidden, msgAnonymousIdentified)
	}
	source := "api"
	if c.p.publishable {
		source = "inapp"
	}
	var contact *Contact
	contactKey := b.keys.anonymous
	if !s.observationOnly(c.p, b) {
		contact = s.resolve(b.keys, b.contactProperties, source, c.now).contact
		contactKey = contact.canonicalKey()
	} else if found := s.findLive(kindAnonymous, b.keys.anonymous); found != nil {
		contact = found
		s.fillIn(found, b.keys, b.contactProperties, c.now)
		contactKey = found.canonicalKey()
	}
	out := ingestAnswer{Exits: []Exit{}, ContactKey: contactKey}
	if _, dup := s.idem[b.idempotencyKey]; b.idempotencyKey == "" || !dup {
		ev := s.storeEvent(c, b, contact, contactKey, source)
		out.Stored = true
		out.Exits = s.checkExits(contact, contactKey, ev)
		s.enterJourneys(contact, contactKey, ev)
	}
	// A publishable key's list write that asserts a person is skipped.
	if b.hasLists && !(c.p.publishable && (b.keys.email != "" || b.keys.external != "")) {
		if contact == nil || contact.Email == "" {
			out.ListsError = msgNoEmailForLists
		} else {
			s.applyLists(contact.Email, b.lists)
		}
	}
	return ok(http.StatusAccepted, out)
}

// observationOnly: a publishable key's anonymous event with no value and
// no groups creates no contact (§5.2 step 3).
func (s *Server) observationOnly(p principal, b *eventBody) bool {
	return p.publishable && b.keys.email == "" && b.keys.external == "" && b.value == nil && !b.hasGroups
}

func (s *Server) storeEvent(c *call, b *eventBody, contact *Contact, contactKey, source string) *Event {
	s.seq++
	ev := &Event{Seq: s.seq, ID: newUUID(), Name: b.name, UserID: contactKey,
		EventProperties: b.eventProperties, Groups: b.groups, Value: b.value,
		Source: source, IdempotencyKey: b.idempotencyKey, OccurredAt: c.now}
	if ev.EventProperties == nil {
		ev.EventProperties = map[string]any{}
	}
	if contact != nil {
		ev.ContactID = contact.ID
	}
	if b.value != nil && b.currency != "" {
		ev.Currency = strings.ToUpper(b.currency)
	}
	if b.hasTimestamp {
		ev.OccurredAt = b.timestamp
	}
	s.events = append(s.events, ev)
	if b.idempotencyKey != "" {
		s.idem[b.idempotencyKey] = ev.ID
	}
	return ev
}
