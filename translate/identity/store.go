// Package identity resolves identity keys to canonical contacts and claims
// idempotency keys. Store has two implementations, Redis (production) and an
// in-process one (embedded mode); one conformance suite runs against both.
package identity

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// Key is one normalised identity key: Kind is canonical.KindExternal,
// canonical.KindEmail or canonical.KindAnonymous.
type Key struct {
	Kind  string
	Value string
}

// Prop is one top-level property change. Value is raw JSON; a nil Value (or the
// JSON literal null) removes the property.
type Prop struct {
	Name  string
	Value []byte
}

// ResolveOp is one resolve-or-create of a contact, with its property patch and an
// optional idempotency claim, applied atomically.
type ResolveOp struct {
	// Keys in precedence order (external, email, anonymous); at most one per kind.
	Keys []Key
	// Set is merged shallowly into the contact's properties (null removes a key;
	// the top-level objects "discord" and "telegram" merge one level deep).
	Set []Prop
	// SetOnce sets properties only where the contact does not have them yet.
	SetOnce []Prop
	// Unset names properties removed after Set and SetOnce (PostHog $unset).
	Unset []string
	// NewID is the id a created contact gets.
	NewID uuid.UUID
	// Source is recorded on a created contact (first touch).
	Source string
	// NoCreate resolves without creating: when no contact matches, the result has
	// Found == false and nothing is written.
	NoCreate bool
	// ClaimOnly makes the op claim IdempotencyKey and nothing else: no keys
	// are looked up, no contact is touched, Found stays false; Duplicate and
	// ClaimPending report the claim as for any op.
	ClaimOnly bool
	// RefuseIdentified makes the op write nothing (not even the idempotency
	// claim) when the keys match a contact that has an external id or an email:
	// a publishable key's anonymous write may not attach to or merge an
	// identified person. The result then has Refused == true.
	RefuseIdentified bool
	// IdempotencyKey, when not empty, is claimed for IdempotencyWindow after the
	// resolve; Duplicate reports a key already held.
	IdempotencyKey    string
	IdempotencyWindow time.Duration
	// ClaimTicket (from NewClaimTicket), when set, groups this op's claim
	// with the other claims of one request: ConfirmIdempotency confirms
	// them all by the ticket, with one write instead of one per key. The
	// claim is pending until then, and stale once the ticket's deadline has
	// passed unconfirmed: the next claim of the key takes it over.
	ClaimTicket string
	// Now is the request time in Unix milliseconds.
	Now int64

	// PostHog identity (docs/contracts/posthog-capture.md §4). All zero means none of it.
	//
	// Distinct is a PostHog distinct_id. It is looked up as an alias of kind
	// external, then of kind anonymous (never as a contact id), together with
	// Keys. When it matched nothing it is written as an anonymous key, or as an
	// external key when Identify is set; when it matched, only Identify writes it.
	Distinct string
	// Identify makes Distinct an identified user id: the contact's external key
	// (external_id filled when empty, alias external:<Distinct>, reason
	// promote); a different external_id is never overwritten.
	Identify bool
	// MergeFrom is another distinct id ($identify's $anon_distinct_id,
	// $create_alias's alias), looked up like Distinct, whose contact S merges
	// into Distinct's contact T; Distinct is required with it. Rules, with the
	// target side being T, else the contacts Keys match:
	//   - MergeFrom == Distinct: as if MergeFrom were empty;
	//   - S not found: MergeFrom is written as an anonymous key of the target
	//     (or of the created contact);
	//   - S found and nothing on the target side: S is resolved (fill-in-link);
	//   - S already on the target side: nothing more to merge;
	//   - else S merges in, unless S has an external_id and MergeDangerously
	//     is false: then MergeRefused, S is left alone and MergeFrom is not
	//     written.
	// While MergeFrom is in play, T (when found) survives whatever the native
	// survivor rule says; other contacts Keys match rank behind it by the
	// native rule, and S comes last (its properties lowest).
	MergeFrom string
	// MergeDangerously merges even when MergeFrom's contact is identified.
	MergeDangerously bool

	// Capture trust (docs/identity-trust.md), with Distinct only.
	//
	// Trust is what the capture request's credential proves; the zero value,
	// TrustFull, applies PostHog's rules above as they are.
	Trust Trust
	// ProvenUser is the userId a valid user token in the event vouches for:
	// the contact its external key resolves to is the proven contact.
	ProvenUser string
	// EmailClaim ($set.email from a sender without full trust) becomes the
	// contact's email key only where the contact has none and no live
	// contact holds it, under TrustVerified only on the proven contact
	// (else Unproven). It is never looked up: it joins nothing.
	EmailClaim string
}

// Trust is how much a capture op's credential proves. A contact is
// identified when it has an external id or an email.
type Trust uint8

const (
	// TrustFull: native ops, and capture with a secret token.
	TrustFull Trust = iota
	// TrustPublic: the public capture token. MergeFrom's contact, when
	// identified, joins only when it is the proven contact and no contact on
	// the target side is identified (else MergeRefused and Unproven).
	// Identify does not write Distinct as an external key when a target-side
	// contact other than the proven one has another external id (Unproven).
	TrustPublic
	// TrustVerified: TrustPublic, and an op that would change an identified
	// target-side contact other than the proven one resolves it without
	// writing anything (Unproven); Identify writes Distinct as an external
	// key only when it is ProvenUser.
	TrustVerified
)

// ResolveResult is the outcome of one ResolveOp.
type ResolveResult struct {
	Found   bool // false only for NoCreate ops that matched nothing
	Created bool // a new contact was created
	Linked  bool // an existing contact was resolved (fill-in-link or merge)
	Merged  bool // two or more contacts were merged into Contact
	// Duplicate: the idempotency key was already claimed, and confirmed,
	// inside its window.
	Duplicate bool
	// ClaimPending: the key is held by a claim not yet confirmed — another
	// request with it is still in flight, or crashed before its records were
	// durable. The caller answers "retry later": the claim expires after
	// PendingClaimWindow unless confirmed.
	ClaimPending bool
	// Contact is the survivor's full state after the op, with a new Version.
	Contact canonical.Contact
	// Losers are the merged-away contacts, soft-deleted, with new Versions.
	Losers []canonical.Contact
	// Aliases are the alias rows this op wrote (new keys, promotions, merges).
	Aliases []canonical.Alias
	// Refused: RefuseIdentified matched an identified contact; nothing was written.
	Refused bool
	// MergeRefused: MergeFrom's contact differs from the target and has an
	// external_id, and MergeDangerously was not set; it was not merged, and the
	// op resolved the target alone.
	MergeRefused bool
	// Unproven: a change the op asked for was refused for want of proof
	// (Trust); the rest of the op was applied.
	Unproven bool
	// Err is a per-op failure (the batch as a whole went through).
	Err error
}

// PendingClaimWindow is how long an unconfirmed idempotency claim lives.
const PendingClaimWindow = 60 * time.Second

// ErrUnavailable wraps failures to reach the backing store; callers answer 503.
var ErrUnavailable = errors.New("identity store unavailable")

// Resolver resolves identity keys to contacts: what ingestion's coalescer
// needs. Every method of the interfaces below is atomic per key under
// concurrency: two concurrent first resolves of the same new email create
// one contact.
type Resolver interface {
	// Resolve applies ops in order, in one round trip to the backing store.
	// results[i] belongs to ops[i].
	Resolve(ctx context.Context, ops []ResolveOp, results []ResolveResult) error
}

// Claims settles the idempotency claims a Resolve made.
type Claims interface {
	// ReleaseIdempotency forgets claimed keys, so that a retry after a failure
	// downstream of the claim can succeed.
	ReleaseIdempotency(ctx context.Context, keys []string) error
	// ConfirmIdempotency turns pending claims into confirmed ones held for
	// window, once the records they guard are durable: the claims of keys
	// (made without a ticket) and every claim made under one of tickets. A
	// claim is made pending (for PendingClaimWindow) so that a crash between
	// the claim and the durable write cannot make a retry look like a stored
	// duplicate.
	ConfirmIdempotency(ctx context.Context, keys, tickets []string, window time.Duration) error
}

// Contacts finds and deletes contacts by their keys.
type Contacts interface {
	// Find returns the live contacts whose email (normalised) or external id
	// matches, following aliases; at most two, email match first.
	Find(ctx context.Context, email, userID string) ([]canonical.Contact, error)
	// Delete soft-deletes the live contacts matched as in Find and removes all
	// their aliases; it returns the deleted contacts (with DeletedAt and a new
	// Version) and the alias tombstones written.
	Delete(ctx context.Context, email, userID string, now int64) ([]canonical.Contact, []canonical.Alias, error)
}

// KeyStore stores API keys by their hash.
type KeyStore interface {
	// PutAPIKey stores (or replaces) an API key by its hash.
	PutAPIKey(ctx context.Context, k canonical.APIKey) error
	// APIKey looks a key up by hash.
	APIKey(ctx context.Context, hash string) (canonical.APIKey, bool, error)
	// APIKeys lists every stored key, revoked and expired ones too.
	APIKeys(ctx context.Context) ([]canonical.APIKey, error)
}

// Restorer loads state read back from ClickHouse (rebuild-identity, and the
// embedded mode's start).
type Restorer interface {
	// Restore applies rows in Version order; a row older than the stored one
	// is ignored. Idempotency keys are claimed until their expiry (Unix ms).
	Restore(ctx context.Context, s canonical.Snapshot) error
}

// Store is the whole identity store, as the service opens it: Redis and
// Memory implement it, and one conformance suite (identitytest) runs against
// both. Its users depend on the parts they call.
type Store interface {
	Resolver
	Claims
	Contacts
	KeyStore
	Restorer
	// Ping reports whether the backing store is usable.
	Ping(ctx context.Context) error
	Close() error
}
