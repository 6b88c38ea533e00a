package engine

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/hogsend/hogsend-proxy/internal/pace"
	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// SpoolConsumer is the name of the hand-off's cursor in the event spool.
const SpoolConsumer = "hogsend_engine"

// Options wire a HandOff; zero values take the defaults.
type Options struct {
	Client      *Client
	DeadLetters DeadLetterStore
	// Answers, when set, gets the engine's answers to awaited calls: those
	// of deletes, and with Sync those of upserts and events too.
	Answers *Answers
	Sync    bool
	// Concurrency is the number of delivery lanes (64): the calls of one
	// contact share a lane and go one after another.
	Concurrency int
	// MaxInFlight bounds the spool entries and calls read and not yet
	// delivered (16384).
	MaxInFlight     int
	RetryInitial    time.Duration // first backoff (200 ms)
	RetryMax        time.Duration // backoff cap (30 s); Retry-After is honoured up to MaxRetryAfter
	BreakerFailures uint32        // consecutive failures that open the breaker (5)
	BreakerOpenFor  time.Duration // open period before a probe (1 s): how late delivery resumes after an outage
	// Gate, when set, bounds the exchanges in flight below Concurrency
	// while the process is short of CPU (docs/operations.md § Delivery
	// pacing).
	Gate *pace.Gate
	// Budget, when set, bounds the exchanges a second as well: at one in
	// flight a 1 ms engine still takes hundreds a second of the CPU ingest
	// is short of.
	Budget *pace.Budget
	Logger *slog.Logger
	Now    func() time.Time
}

// MaxRetryAfter caps how long an engine's Retry-After holds a lane.
const MaxRetryAfter = 5 * time.Minute

func (o *Options) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 16384
	}
	if o.RetryInitial <= 0 {
		o.RetryInitial = 200 * time.Millisecond
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 30 * time.Second
	}
	if o.BreakerFailures == 0 {
		o.BreakerFailures = 5
	}
	if o.BreakerOpenFor <= 0 {
		o.BreakerOpenFor = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// HandOff delivers the engine calls of the event spool to the engine.
type HandOff struct {
	opts    Options
	r       *spool.Reader
	log     *slog.Logger
	breaker *gobreaker.CircuitBreaker[Answer]
	lanes   []chan *item
	seed    maphash.Seed
	win     *spool.Window

	delivered     atomic.Uint64
	retried       atomic.Uint64
	deadLettered  atomic.Uint64
	undeliverable atomic.Uint64
	attempts      atomic.Uint64
}

// item is one call on its way, with the spool entry it came from.
type item struct {
	req   Request
	entry *spool.WindowEntry
}

// New returns the hand-off reading with r (the SpoolConsumer reader).
func New(r *spool.Reader, opts Options) *HandOff {
	opts.defaults()
	h := &HandOff{opts: opts, r: r, log: opts.Logger, seed: maphash.MakeSeed()}
	h.win = spool.NewWindow(opts.MaxInFlight)
	h.breaker = gobreaker.NewCircuitBreaker[Answer](gobreaker.Settings{
		Name:        "hogsend-engine-handoff",
		Timeout:     opts.BreakerOpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= opts.BreakerFailures },
	})
	h.lanes = make([]chan *item, opts.Concurrency)
	for i := range h.lanes {
		h.lanes[i] = make(chan *item, max(1, opts.MaxInFlight/opts.Concurrency))
	}
	return h
}

// commitEvery spaces the cursor writes. Committing late is safe: after a
// crash the calls after the cursor are sent again, in order, and the
// engine stores an event once per idempotency key.
const commitEvery = time.Second

// Run delivers until ctx ends; calls still on their way then are sent
// again by the next run.
func (h *HandOff) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, lane := range h.lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.runLane(ctx, lane)
		}()
	}
	err := h.read(ctx)
	wg.Wait()
	if cerr := h.commit(); cerr != nil {
		h.log.Warn("at shutdown", "err", cerr)
	}
	return err
}

// read turns spool entries into calls on their lanes.
func (h *HandOff) read(ctx context.Context) error {
	buf := make([]spool.Entry, 0, 64)
	var batch canonical.Batch
	lastCommit := time.Now()
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, commitEvery)
		entries, err := h.r.Next(rctx, cap(buf), buf[:0])
		cancel()
		if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("read event spool: %w", err)
		}
		if time.Since(lastCommit) >= commitEvery {
			if err := h.commit(); err != nil {
				return err
			}
			lastCommit = time.Now()
		}
		for _, e := range entries {
			if err := h.dispatch(ctx, e, &batch); err != nil {
				return nil // ctx ended while waiting for room
			}
		}
	}
	return nil
}

func (h *HandOff) commit() error {
	if err := h.win.Commit(h.r); err != nil {
		return fmt.Errorf("commit hand-off cursor: %w", err)
	}
	return nil
}

// dispatch queues the calls of one spool entry on their lanes.
func (h *HandOff) dispatch(ctx context.Context, e spool.Entry, batch *canonical.Batch) error {
	if err := canonical.DecodeBatch(e.Data, batch); err != nil {
		h.log.Error("skipping undecodable spool entry", "err", err, "segment", e.Pos.Segment, "offset", e.Pos.Offset)
		batch.Reset()
	}
	reqs := h.requests(batch)
	en, err := h.win.Add(ctx, e.Pos, len(reqs), entryTime(batch, h.opts.Now()))
	if err != nil {
		return err
	}
	for i := range reqs {
		if reqs[i].At == 0 {
			reqs[i].At = en.At()
		}
		it := &item{req: reqs[i], entry: en}
		select {
		case h.lanes[h.laneOf(&it.req)] <- it:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// requests are the engine requests of a batch's calls.
func (h *HandOff) requests(b *canonical.Batch) []Request {
	if len(b.Calls) == 0 {
		return nil
	}
	reqs := make([]Request, 0, len(b.Calls))
	for i := range b.Calls {
		c := &b.Calls[i]
		r, err := NewRequest(c, eventOf(b, c))
		if err != nil {
			h.undeliverable.Add(1)
			h.log.Error("engine call cannot be built; skipped", "err", err)
			continue
		}
		reqs = append(reqs, r)
	}
	return reqs
}

// eventOf is the event a CallEvent names, nil when absent. A batch's
// calls follow its events in order, so the search is short.
func eventOf(b *canonical.Batch, c *canonical.EngineCall) *canonical.Event {
	if c.Kind != canonical.CallEvent {
		return nil
	}
	for i := range b.Events {
		if b.Events[i].ID == c.ID {
			return &b.Events[i]
		}
	}
	return nil
}

// entryTime is when the proxy accepted a batch, for the hand-off's lag.
func entryTime(b *canonical.Batch, now time.Time) int64 {
	switch {
	case len(b.Events) > 0:
		return b.Events[0].ReceivedAt
	case len(b.Contacts) > 0 && b.Contacts[0].UpdatedAt > 0:
		return b.Contacts[0].UpdatedAt
	}
	return now.UnixMilli()
}

// laneOf keeps a contact's calls on one lane; a call with no contact goes
// by its own id.
func (h *HandOff) laneOf(r *Request) int {
	key := r.ContactID
	if key == [16]byte{} {
		key = r.Call
	}
	return int(maphash.Bytes(h.seed, key[:]) % uint64(len(h.lanes)))
}
