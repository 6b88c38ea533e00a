// Package canonical holds the records every input is translated into and every sink
// consumes: events, contact versions, alias changes and API keys. It depends on nothing
// else in the project so that translate and sinks can both import it.
package canonical

import "github.com/google/uuid"

// Times are Unix milliseconds in UTC; 0 means "not set".

// Event is one stored event (a row of user_events).
type Event struct {
	ID             uuid.UUID
	Name           string
	UserID         string    // canonical contact key at write time, never rewritten
	ContactID      uuid.UUID // uuid.Nil when no contact was resolved
	Properties     []byte    // JSON object text
	HasValue       bool
	Value          float64
	Currency       string // 3 upper-case letters or ""
	Groups         []byte // JSON object text ("{}" when none)
	Source         string // "api", "inapp", "posthog", …
	IdempotencyKey string
	DistinctID     string // PostHog distinct_id, "" for native traffic
	Lib            string // PostHog $lib
	IP             string
	OccurredAt     int64
	ReceivedAt     int64
	// Historical marks an import (PostHog historical_migration): stored, but
	// never a fresh trigger for conversions.
	Historical bool
	// SecretToken marks a PostHog event sent with a server-side secret
	// capture token: conversion rules see it as server-originated. Spool
	// only (docs/identity-trust.md § Conversion sources).
	SecretToken bool
	// Token is the PostHog project token a capture event came with, for the
	// mirror to the project; "" for native events and secret tokens. Spool
	// only.
	Token string
	// TopLevel is a PostHog event's top-level "$set" and "$set_once" as a
	// JSON object ({"$set":{…}}), nil when it had neither: PostHog applies
	// them beside properties, and the mirror sends them as they came. Spool
	// only.
	TopLevel []byte
}

// Contact is the full state of one contact at one version (a row of contacts).
// ReplacingMergeTree keeps the row with the highest Version per ID.
type Contact struct {
	ID          uuid.UUID
	ExternalID  string
	Email       string
	AnonymousID string
	Properties  []byte // JSON object text
	Source      string // first-touch provenance
	FirstSeenAt int64
	LastSeenAt  int64
	CreatedAt   int64
	UpdatedAt   int64
	DeletedAt   int64 // 0 while live
	Version     uint64
}

// Key returns the canonical contact key: external_id ?? anonymous_id ?? id.
func (c *Contact) Key() string {
	if c.ExternalID != "" {
		return c.ExternalID
	}
	if c.AnonymousID != "" {
		return c.AnonymousID
	}
	return c.ID.String()
}

// Alias kinds, in resolution precedence order.
const (
	KindExternal  = "external"
	KindEmail     = "email"
	KindAnonymous = "anonymous"
)

// Alias reasons, as upstream Hogsend names them.
const (
	ReasonResolve = "resolve"
	ReasonPromote = "promote"
	ReasonMerge   = "merge"
)

// Alias maps one identity key to a contact (a row of contact_aliases).
// Deleted rows tombstone the key; the highest Version per (Kind, Value) wins.
type Alias struct {
	Kind          string
	Value         string
	ContactID     uuid.UUID
	FromContactID uuid.UUID // the merged-away contact for ReasonMerge, else uuid.Nil
	Reason        string
	Deleted       bool
	Version       uint64
	At            int64
}

// APIKey is a stored API key; only the SHA-256 of the secret is kept.
type APIKey struct {
	Hash   string // lower-case hex sha256 of the full key
	Prefix string // first 8 characters of the key ("pk_…" for publishable keys)
	Name   string
	Scopes []string
	// AllowedOrigins are the exact Origin values a publishable (pk_) key may
	// be used from.
	AllowedOrigins []string
	CreatedAt      int64
	ExpiresAt      int64
	RevokedAt      int64
}

// Batch is what one request appends to the spool: everything it changed, made
// durable together.
type Batch struct {
	Events   []Event
	Contacts []Contact
	Aliases  []Alias
	APIKeys  []APIKey
	Lists    []ListMembership
	Calls    []EngineCall
}

// ListMembership is one contact's opt-in or opt-out of one list (a row of
// list_memberships); the highest Version per (ContactID, ListID) wins.
type ListMembership struct {
	ContactID  uuid.UUID
	Email      string
	ListID     string
	Subscribed bool
	Version    uint64
	At         int64
}

// Reset empties b, keeping its capacity.
func (b *Batch) Reset() {
	b.Events = b.Events[:0]
	b.Contacts = b.Contacts[:0]
	b.Aliases = b.Aliases[:0]
	b.APIKeys = b.APIKeys[:0]
	b.Lists = b.Lists[:0]
	b.Calls = b.Calls[:0]
}

// Len is the number of records in b.
func (b *Batch) Len() int {
	return len(b.Events) + len(b.Contacts) + len(b.Aliases) + len(b.APIKeys) + len(b.Lists) + len(b.Calls)
}

// Engine call kinds: the Hogsend engine route each one is delivered to.
const (
	CallUpsert = 1 // PUT /v1/contacts
	CallEvent  = 2 // POST /v1/events
	CallDelete = 3 // DELETE /v1/contacts
)

// EngineCall is one request of the hand-off to a Hogsend engine
// (docs/upstream.md § 3). It is written with the records it stands for, so
// the engine receives what the proxy stored, in spool order.
type EngineCall struct {
	// ID names the call. A CallEvent's ID is its event's, in the same batch:
	// the event's own fields complete the request.
	ID   uuid.UUID
	Kind uint8
	// ContactID orders delivery: the calls of one contact go in spool order.
	// uuid.Nil for a write that resolved no contact.
	ContactID uuid.UUID
	// Body is a JSON object: the whole request body, or for a CallEvent the
	// members the event does not carry (identity keys, contactProperties,
	// lists).
	Body []byte
	// Awaited marks a call whose client may be waiting for the engine's
	// answer (a native request): the hand-off passes that answer on.
	Awaited bool
}

// Snapshot is identity state read back from ClickHouse to rebuild an identity store.
type Snapshot struct {
	Contacts    []Contact // latest version of every contact, deleted ones included
	Aliases     []Alias   // latest version of every alias, tombstones included
	APIKeys     []APIKey
	Idempotency []IdempotencyClaim
}

// IdempotencyClaim is a claimed idempotency key and when it expires (Unix ms).
type IdempotencyClaim struct {
	Key       string
	ExpiresAt int64
}
