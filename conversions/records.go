package conversions

import "github.com/google/uuid"

// Click is one click or browser id seen on an event (a row of contact_clicks).
type Click struct {
	ContactID uuid.UUID
	Kind      string // "gclid", "fbclid", "fbc", "fbp", "ttclid", …
	Value     string
	At        int64 // Unix ms of the event that carried it
	EventID   uuid.UUID
}

// Dispatch is one state change of a conversion at a destination (a row of
// conversion_dispatches).
type Dispatch struct {
	At          int64 // Unix ms
	Destination string
	DedupID     string
	RuleID      string
	EventID     uuid.UUID
	ContactID   uuid.UUID
	EventName   string
	Status      string // "pending", "delivered", "failed"
	Attempts    uint32
	HTTPStatus  uint16
	LastError   string
	LatencyMs   uint32
}

// ConversionDeadLetter is a conversion a platform refused for good (a row of
// conversion_dead_letters). Conversion is the queued record as JSON.
type ConversionDeadLetter struct {
	Destination string
	DedupID     string
	Conversion  []byte
	Reason      string
	FailedAt    int64 // Unix ms
	ReplayedAt  int64 // Unix ms, 0 until replayed
	Version     uint64
}

// ContactFacts is what a conversion needs to know of a contact.
type ContactFacts struct {
	ID         uuid.UUID
	Found      bool
	Deleted    bool
	ExternalID string
	Email      string
	Properties []byte // JSON object text
	// Merged are the contacts merged into this one: their clicks count too.
	Merged []uuid.UUID
}
