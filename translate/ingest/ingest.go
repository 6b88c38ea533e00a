// Package ingest turns validated native requests and PostHog capture
// requests into identity operations and durable canonical records: it
// resolves people through the identity store, claims idempotency keys, makes
// the records durable in the journal before answering, and confirms the
// claims after (docs/architecture.md § 2).
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/translate/apikeys"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/native"
)

// Journal makes encoded records durable before a request is acknowledged. The
// spool implements it; Append returns only after fsync.
type Journal interface {
	Append(ctx context.Context, payload []byte) error
}

// IdentityStore is what ingestion asks of the identity store: resolves,
// their idempotency claims, contact lookups and deletes, and API keys. Its
// restore and lifecycle belong to whoever opened it.
type IdentityStore interface {
	identity.Resolver
	identity.Claims
	identity.Contacts
	identity.KeyStore
}

// Ingestor turns validated native requests into identity operations and durable
// canonical records.
type Ingestor struct {
	store    IdentityStore
	resolver *Coalescer
	journal  Journal
	window   time.Duration
	now      func() time.Time
	bufs     sync.Pool
	rows     contactRowFilter
	claims   *claimConfirmer
	// rawEventPool holds *[]posthog.RawEvent for Capture (rawEvents).
	rawEventPool sync.Pool
	// pending holds identity rows whose batch failed (durable.go); one
	// flush runs at a time, and flushLoop retries until stop.
	pending   *pendingIdentity
	flushMu   sync.Mutex
	flushedAt atomic.Int64 // Unix ns of the last flush attempt
	stop      chan struct{}
	flushDone chan struct{}
	log       *slog.Logger
}

// Options configures an Ingestor.
type Options struct {
	IdempotencyWindow time.Duration
	Now               func() time.Time // nil = time.Now
	// ResolveWorkers and ResolveBatch size the coalescer (defaults 8 and 16:
	// small pipelines, many in flight, keep each op's wait for its batch short).
	ResolveWorkers int
	ResolveBatch   int
	// PendingMaxBytes bounds the identity rows of failed writes kept for a
	// later write (default 16 MiB); at the bound new writes get 503 until
	// they are durable. PendingFlushInterval is how often they are retried
	// on their own (default 1s).
	PendingMaxBytes      int
	PendingFlushInterval time.Duration
	Logger               *slog.Logger
}

// New wires an Ingestor; Close stops its coalescer.
func New(store IdentityStore, journal Journal, opts Options) *Ingestor {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ResolveWorkers <= 0 {
		opts.ResolveWorkers = 8
	}
	if opts.ResolveBatch <= 0 {
		opts.ResolveBatch = 16
	}
	if opts.PendingMaxBytes <= 0 {
		opts.PendingMaxBytes = defaultPendingMaxBytes
	}
	if opts.PendingFlushInterval <= 0 {
		opts.PendingFlushInterval = defaultPendingFlushInterval
	}
	log := logger(opts.Logger)
	in := &Ingestor{
		store:     store,
		resolver:  NewCoalescer(store, opts.ResolveWorkers, opts.ResolveBatch, 10*time.Second),
		claims:    newClaimConfirmer(store, opts.IdempotencyWindow, log),
		journal:   journal,
		window:    opts.IdempotencyWindow,
		now:       opts.Now,
		pending:   newPendingIdentity(opts.PendingMaxBytes),
		stop:      make(chan struct{}),
		flushDone: make(chan struct{}),
		log:       log,
	}
	go in.flushLoop(opts.PendingFlushInterval)
	return in
}

// Close stops background work, confirming the claims still queued and
// writing the identity rows of failed writes still held.
func (in *Ingestor) Close() {
	in.closePending()
	in.resolver.Close()
	in.claims.close()
}

// UpsertResult answers PUT /v1/contacts.
type UpsertResult struct {
	ID      uuid.UUID
	Created bool
	Linked  bool
}

// EventResult answers POST /v1/events.
type EventResult struct {
	Stored     bool
	ContactKey string
	ListsError string
}

func identityKeys(email, userID, anonymousID string) []identity.Key {
	keys := make([]identity.Key, 0, 3)
	if userID != "" {
		keys = append(keys, identity.Key{Kind: canonical.KindExternal, Value: userID})
	}
	if email != "" {
		keys = append(keys, identity.Key{Kind: canonical.KindEmail, Value: email})
	}
	if anonymousID != "" {
		keys = append(keys, identity.Key{Kind: canonical.KindAnonymous, Value: anonymousID})
	}
	return keys
}

func (in *Ingestor) resolve(op identity.ResolveOp) (identity.ResolveResult, error) {
	res, err := in.resolver.Resolve(op)
	if err != nil {
		return res, storeDown("resolve", err)
	}
	return res, nil
}

// addResolved appends the contact rows and alias rows a resolve produced.
func addResolved(b *canonical.Batch, res *identity.ResolveResult) {
	b.Contacts = append(b.Contacts, res.Contact)
	b.Contacts = append(b.Contacts, res.Losers...)
	b.Aliases = append(b.Aliases, res.Aliases...)
}

// addLists records list flags; it needs an email on record.
func addLists(b *canonical.Batch, c *canonical.Contact, lists []native.ListFlag, now int64) error {
	if c.Email == "" {
		return ErrNoEmailForLists
	}
	for _, l := range lists {
		b.Lists = append(b.Lists, canonical.ListMembership{
			ContactID: c.ID, Email: c.Email, ListID: l.ID, Subscribed: l.Subscribed, Version: c.Version, At: now,
		})
	}
	return nil
}

// UpsertContact resolves or creates the contact and merges its properties.
// The list error, if any, comes after the contact change is durable, as
// upstream answers it after its commit. A publishable caller's anonymous write
// may not touch an identified contact.
func (in *Ingestor) UpsertContact(ctx context.Context, u native.ContactUpsert, publishable bool) (UpsertResult, error) {
	if err := in.admit(ctx); err != nil {
		return UpsertResult{}, err
	}
	now := in.now().UnixMilli()
	res, err := in.resolve(identity.ResolveOp{
		Keys:             identityKeys(u.Email, u.UserID, u.AnonymousID),
		Set:              u.Properties,
		NewID:            newContactID(),
		Now:              now,
		RefuseIdentified: publishable && u.Email == "" && u.UserID == "",
	})
	if err != nil {
		return UpsertResult{}, err
	}
	if res.Refused {
		return UpsertResult{}, apikeys.ErrAnonymousIdentified
	}
	var b canonical.Batch
	carried := in.carryPending(&b, &res)
	addResolved(&b, &res)
	var listErr error
	if u.HasLists {
		listErr = addLists(&b, &res.Contact, u.Lists, now)
	}
	if err := in.commit(ctx, &b); err != nil {
		in.keepFailed(ctx, err, &res)
		return UpsertResult{}, err
	}
	if carried {
		in.pending.settle(&b)
	}
	out := UpsertResult{ID: res.Contact.ID, Created: res.Created, Linked: res.Linked}
	return out, listErr
}

// TrackEvent resolves the contact (creating it when needed), claims the
// idempotency key and stores the event. A duplicate still touches the contact,
// as upstream does, but stores no event.
//
// A publishable (pk_) caller writing anonymously may not touch an identified
// contact, and an anonymous event with no value and no groups is an
// observation: it creates no contact and is stored under the anonymous id.
func (in *Ingestor) TrackEvent(ctx context.Context, e native.EventInput, source string, publishable bool) (EventResult, error) {
	if err := in.admit(ctx); err != nil {
		return EventResult{}, err
	}
	received := in.now().UnixMilli()
	anonymous := publishable && e.Email == "" && e.UserID == ""
	op := identity.ResolveOp{
		Keys:             identityKeys(e.Email, e.UserID, e.AnonymousID),
		Set:              e.ContactProperties,
		NewID:            newContactID(),
		Source:           source,
		Now:              received,
		RefuseIdentified: anonymous,
		NoCreate:         anonymous && !e.HasValue && isEmptyObject(e.Groups),
	}
	if e.IdempotencyKey != "" {
		op.IdempotencyKey, op.IdempotencyWindow = e.IdempotencyKey, in.window
	}
	res, err := in.resolve(op)
	if err != nil {
		return EventResult{}, err
	}
	if res.Refused {
		return EventResult{}, apikeys.ErrAnonymousIdentified
	}
	out := EventResult{Stored: !res.Duplicate && !res.ClaimPending}
	var b canonical.Batch
	carried := in.carryPending(&b, &res)
	rowsAdded := false
	if res.Found {
		out.ContactKey = res.Contact.Key()
		if in.rows.needed(&res, len(e.ContactProperties) > 0) {
			addResolved(&b, &res)
			rowsAdded = true
		}
	} else {
		out.ContactKey = e.AnonymousID // observation only: no contact
	}
	if out.Stored {
		occurred := e.Timestamp
		if occurred == 0 {
			occurred = received
		}
		b.Events = append(b.Events, canonical.Event{
			ID: newEventID(), Name: e.Name, UserID: out.ContactKey, ContactID: res.Contact.ID,
			Properties: e.EventProperties, HasValue: e.HasValue, Value: e.Value, Currency: e.Currency,
			Groups: e.Groups, Source: source, IdempotencyKey: e.IdempotencyKey,
			OccurredAt: occurred, ReceivedAt: received,
		})
	}
	// A publishable caller's list write that asserts an identity is skipped.
	if e.HasLists && !(publishable && (e.Email != "" || e.UserID != "")) {
		if err := addLists(&b, &res.Contact, e.Lists, received); err != nil {
			out.ListsError = err.Error()
		}
	}
	if err := in.commit(ctx, &b); err != nil {
		if rowsAdded {
			in.keepFailed(ctx, err, &res)
		} else if res.Found {
			in.rows.forget(res.Contact.ID)
		}
		if op.IdempotencyKey != "" && out.Stored {
			// Let a retry claim the key again: nothing was stored under it.
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = in.store.ReleaseIdempotency(rctx, []string{op.IdempotencyKey})
			cancel()
		}
		return EventResult{}, err
	}
	if carried {
		in.pending.settle(&b)
	}
	if res.ClaimPending {
		return EventResult{}, ErrClaimPending
	}
	if op.IdempotencyKey != "" && out.Stored {
		in.claims.confirm([]string{op.IdempotencyKey}, "")
	}
	return out, nil
}

// FindContacts returns the live contacts matching either key.
func (in *Ingestor) FindContacts(ctx context.Context, k native.ContactKeys) ([]canonical.Contact, error) {
	cs, err := in.store.Find(ctx, k.Email, k.UserID)
	if err != nil {
		return nil, storeDown("find contacts", err)
	}
	return cs, nil
}

// DeleteContacts soft-deletes the matching contacts and drops their aliases.
// A delete that cannot be made durable is kept with the identity rows of
// failed writes (keepDeleted), and its retry answers for it (retriedDelete).
func (in *Ingestor) DeleteContacts(ctx context.Context, k native.ContactKeys) error {
	if err := in.admit(ctx); err != nil {
		return err
	}
	deleted, tombstones, err := in.store.Delete(ctx, k.Email, k.UserID, in.now().UnixMilli())
	if err != nil {
		return storeDown("delete contacts", err)
	}
	if len(deleted) == 0 {
		return in.retriedDelete(ctx, k)
	}
	b := canonical.Batch{Contacts: deleted, Aliases: tombstones}
	ids := make([]uuid.UUID, len(deleted))
	for i := range deleted {
		ids[i] = deleted[i].ID
	}
	carried := in.pending.carry(&b, ids)
	if err := in.commit(ctx, &b); err != nil {
		in.keepDeleted(ctx, err, deleted, tombstones)
		return err
	}
	if carried {
		in.pending.settle(&b)
	}
	return nil
}

// isEmptyObject reports a JSON object with no members.
func isEmptyObject(b []byte) bool {
	empty := true
	gjson.ParseBytes(b).ForEach(func(_, _ gjson.Result) bool {
		empty = false
		return false
	})
	return empty
}

func newContactID() uuid.UUID { return mustV7() }
func newEventID() uuid.UUID   { return mustV7() }

func mustV7() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only when the system random source does.
		return uuid.New()
	}
	return id
}

// IsUnavailable reports errors the proxy answers with 503 and Retry-After.
func IsUnavailable(err error) bool {
	return errors.Is(err, identity.ErrUnavailable) || errors.Is(err, ErrNotDurable) || errors.Is(err, ErrClaimPending)
}

// storeDown marks a failed identity store call as identity.ErrUnavailable
// (503), keeping the cause matchable (a deadline, a closed coalescer).
func storeDown(what string, err error) error {
	if errors.Is(err, identity.ErrUnavailable) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w: %w", what, identity.ErrUnavailable, err)
}
