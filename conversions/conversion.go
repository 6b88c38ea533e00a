package conversions

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Conversion is one conversion ready for one destination. Identifiers are raw
// (unhashed, as the contact or event carried them): every platform client
// normalises and hashes them its own way. It is also the record of the
// per-destination queue, hence the JSON tags.
type Conversion struct {
	// DedupID is DedupID(contact, rule, event): the same on every retry and
	// replay, and the id a browser pixel sends to be deduplicated against.
	DedupID   string `json:"dedup_id"`
	RuleID    string `json:"rule_id"`
	EventID   string `json:"event_id"`   // the source event's uuid
	EventName string `json:"event_name"` // the platform's event name from the rule
	// TriggerEvent is the source event's name (e.g. "subscription.created").
	TriggerEvent string    `json:"trigger_event"`
	ContactID    string    `json:"contact_id"`
	OccurredAt   time.Time `json:"occurred_at"` // UTC
	// Value and Currency are set when HasValue; Currency is ISO 4217 upper case.
	HasValue bool    `json:"has_value,omitempty"`
	Value    float64 `json:"value,omitempty"`
	Currency string  `json:"currency,omitempty"`
	OrderID  string  `json:"order_id,omitempty"`
	// PageURL is where the conversion happened ($current_url or url), if known.
	PageURL string  `json:"page_url,omitempty"`
	User    User    `json:"user"`
	Clicks  Clicks  `json:"clicks"`
	Consent Consent `json:"consent,omitempty"`
}

// User holds the raw identifiers of the converting person.
type User struct {
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"` // as stored; clients normalise (E.164 or digits)
	FirstName   string `json:"first_name,omitempty"`
	LastName    string `json:"last_name,omitempty"`
	City        string `json:"city,omitempty"`
	State       string `json:"state,omitempty"`
	Zip         string `json:"zip,omitempty"`
	Country     string `json:"country,omitempty"` // ISO 3166-1 alpha-2 when known
	ExternalID  string `json:"external_id,omitempty"`
	IP          string `json:"ip,omitempty"`
	UserAgent   string `json:"user_agent,omitempty"`
	Title       string `json:"title,omitempty"`
	CompanyName string `json:"company_name,omitempty"`
}

// Clicks holds the click and browser ids attributed to the conversion: from
// the event itself, else from the contact's most recent click within the
// rule's attribution window.
type Clicks struct {
	Fbclid  string `json:"fbclid,omitempty"`
	Fbc     string `json:"fbc,omitempty"` // a ready _fbc cookie value, sent as is
	Fbp     string `json:"fbp,omitempty"`
	Gclid   string `json:"gclid,omitempty"`
	Gbraid  string `json:"gbraid,omitempty"`
	Wbraid  string `json:"wbraid,omitempty"`
	Ttclid  string `json:"ttclid,omitempty"`
	Ttp     string `json:"ttp,omitempty"`
	LiFatID string `json:"li_fat_id,omitempty"`
	RdtCid  string `json:"rdt_cid,omitempty"`
	RdtUUID string `json:"rdt_uuid,omitempty"`
	// GAClientID is Google Analytics' client id (the _ga cookie's
	// "<random>.<timestamp>"), for GA4's client_id.
	GAClientID string `json:"ga_client_id,omitempty"`
	// At is when the click happened (the event that carried it); zero when
	// unknown. Meta's fbc is "fb.1.<At ms>.<fbclid>".
	At time.Time `json:"at,omitempty"`
}

// Consent is the person's marketing consent as the consent property said it.
type Consent string

const (
	ConsentUnknown Consent = ""
	ConsentGranted Consent = "granted"
	ConsentDenied  Consent = "denied"
)

// DedupID is hex(sha256("<contactID>:<ruleID>:<eventID>")), Hogsend's
// conversion event id: stable across retries and replays, and computable by a
// browser pixel that knows the same three values.
func DedupID(contactID, ruleID, eventID string) string {
	sum := sha256.Sum256([]byte(contactID + ":" + ruleID + ":" + eventID))
	return hex.EncodeToString(sum[:])
}

// ValidCurrency reports whether code is an ISO 4217 code as Conversion
// carries it: three ASCII letters, upper case.
func ValidCurrency(code string) bool {
	if len(code) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if code[i] < 'A' || code[i] > 'Z' {
			return false
		}
	}
	return true
}
