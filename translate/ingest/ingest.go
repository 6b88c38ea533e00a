// Package ingest turns validated native requests and PostHog capture
// requests into identity operations and durable canonical records: it
// resolves people through the identity store, claims idempotency keys, makes
// the records durable in the journal before answering, and confirms the
// claims after (docs/architecture.md § 2).
package ingest

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// Journal makes encoded records durable before a request is acknowledged. The
// spool implements it; Append returns only after fsync, and wraps
// ErrTooLargeToStore for a payload larger than one entry holds.
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
	// engineCalls writes the hand-off's engine calls with the records.
	engineCalls bool
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
	// EngineCalls writes, with the records, the calls that hand them off to
	// a Hogsend engine (docs/upstream.md § 3).
	EngineCalls bool
	Logger      *slog.Logger
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

		engineCalls: opts.EngineCalls,
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
