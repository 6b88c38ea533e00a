package posthog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/hogsend/hogsend-proxy/internal/pace"
	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// SpoolConsumer is the name of the mirror's cursor in the event spool.
const SpoolConsumer = "posthog_mirror"

// Options wire a Mirror; zero values take the defaults.
type Options struct {
	Client      *Client
	DeadLetters DeadLetterStore
	// Native mirrors native events too, as Hogsend mirrors its own
	// (HOGSEND_POSTHOG_MIRROR_NATIVE).
	Native bool
	// Token is the project token of events that carry none (native ones,
	// and captures with a secret token); "" leaves those unmirrored.
	Token       string
	BatchEvents int           // events in one /batch/ request (500)
	BatchBytes  int           // JSON bytes of one request before gzip (1 MiB)
	MaxDelay    time.Duration // longest a read event waits for its batch to fill (200 ms)
	// Concurrency is the batches in flight at once (4).
	Concurrency int
	// MaxInFlight bounds the spool entries and events read and not yet
	// delivered (65536).
	MaxInFlight     int
	RetryInitial    time.Duration // first backoff (200 ms)
	RetryMax        time.Duration // backoff cap (30 s)
	BreakerFailures uint32        // consecutive failures that open the breaker (5)
	BreakerOpenFor  time.Duration // open period before a probe (1 s): how late delivery resumes after an outage
	// Budget, when set, bounds the events sent a second while the process
	// is short of CPU (docs/operations.md § Delivery pacing).
	Budget *pace.Budget
	Logger *slog.Logger
	Now    func() time.Time
}

// MaxRetryAfter caps how long PostHog's Retry-After holds a batch.
const MaxRetryAfter = 5 * time.Minute

func (o *Options) defaults() {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&o.BatchEvents, 500)
	set(&o.BatchBytes, 1<<20)
	set(&o.Concurrency, 4)
	set(&o.MaxInFlight, 65536)
	for _, d := range []struct {
		v *time.Duration
		d time.Duration
	}{{&o.MaxDelay, 200 * time.Millisecond}, {&o.RetryInitial, 200 * time.Millisecond}, {&o.RetryMax, 30 * time.Second}, {&o.BreakerOpenFor, time.Second}} {
		if *d.v <= 0 {
			*d.v = d.d
		}
	}
	if o.BreakerFailures == 0 {
		o.BreakerFailures = 5
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Mirror delivers the spool's captured events to a PostHog project.
type Mirror struct {
	opts    Options
	r       *spool.Reader
	log     *slog.Logger
	breaker *gobreaker.CircuitBreaker[Answer]
	win     *spool.Window
	out     chan *batch
	gzips   gzipPool

	// Owned by the reading goroutine.
	pending   map[batchKey]*batch
	pendingAt time.Time // when the oldest pending batch got its first event

	delivered    atomic.Uint64
	batches      atomic.Uint64
	retried      atomic.Uint64
	deadLettered atomic.Uint64
	attempts     atomic.Uint64
}

// New returns the mirror reading with r (the SpoolConsumer reader).
func New(r *spool.Reader, opts Options) *Mirror {
	opts.defaults()
	m := &Mirror{opts: opts, r: r, log: opts.Logger, win: spool.NewWindow(opts.MaxInFlight),
		out: make(chan *batch, opts.Concurrency), pending: make(map[batchKey]*batch)}
	m.breaker = gobreaker.NewCircuitBreaker[Answer](gobreaker.Settings{
		Name:        "posthog-mirror",
		Timeout:     opts.BreakerOpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= opts.BreakerFailures },
	})
	return m
}

// commitEvery spaces the cursor writes. Committing late is safe: after a
// crash the events after the cursor are sent again with their uuids, which
// PostHog stores once.
const commitEvery = time.Second

// Run mirrors until ctx ends; batches not yet delivered are sent again by
// the next run.
func (m *Mirror) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range m.opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.runWorker(ctx)
		}()
	}
	err := m.read(ctx)
	wg.Wait()
	if cerr := m.commit(); cerr != nil {
		m.log.Warn("at shutdown", "err", cerr)
	}
	return err
}

// read batches the spool's events and hands full or due batches to the
// workers.
func (m *Mirror) read(ctx context.Context) error {
	buf := make([]spool.Entry, 0, 64)
	var decoded canonical.Batch
	lastCommit := time.Now()
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, m.readWait())
		entries, err := m.r.Next(rctx, cap(buf), buf[:0])
		cancel()
		if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("read event spool: %w", err)
		}
		for _, e := range entries {
			if m.take(ctx, e, &decoded) != nil {
				return nil
			}
		}
		if len(m.pending) > 0 && time.Since(m.pendingAt) >= m.opts.MaxDelay {
			if m.flushAll(ctx) != nil {
				return nil
			}
		}
		if time.Since(lastCommit) >= commitEvery {
			if err := m.commit(); err != nil {
				return err
			}
			lastCommit = time.Now()
		}
	}
	return nil
}

// readWait is how long a read may wait for entries: until the oldest
// pending batch is due, and at most until the next commit.
func (m *Mirror) readWait() time.Duration {
	if len(m.pending) == 0 {
		return commitEvery
	}
	return max(time.Millisecond, m.opts.MaxDelay-time.Since(m.pendingAt))
}

func (m *Mirror) commit() error {
	if err := m.win.Commit(m.r); err != nil {
		return fmt.Errorf("commit mirror cursor: %w", err)
	}
	return nil
}

// take adds the mirrored events of one spool entry to their batches.
func (m *Mirror) take(ctx context.Context, e spool.Entry, decoded *canonical.Batch) error {
	if err := canonical.DecodeBatch(e.Data, decoded); err != nil {
		m.log.Error("skipping undecodable spool entry", "err", err, "segment", e.Pos.Segment, "offset", e.Pos.Offset)
		decoded.Reset()
	}
	events := m.events(decoded)
	at := m.opts.Now().UnixMilli()
	if len(decoded.Events) > 0 {
		at = decoded.Events[0].ReceivedAt
	}
	en, err := m.admit(ctx, e.Pos, len(events), at)
	if err != nil {
		return err
	}
	for _, ev := range events {
		if err := m.add(ctx, ev, en); err != nil {
			return err
		}
	}
	return nil
}

// admit takes room in the window for an entry; while the window is full it
// sends the pending batches, whose events hold part of it.
func (m *Mirror) admit(ctx context.Context, pos spool.Position, n int, at int64) (*spool.WindowEntry, error) {
	for {
		actx, cancel := context.WithTimeout(ctx, m.opts.MaxDelay)
		en, err := m.win.Add(actx, pos, n, at)
		cancel()
		if err == nil || ctx.Err() != nil {
			return en, ctx.Err()
		}
		if err := m.flushAll(ctx); err != nil {
			return nil, err
		}
	}
}

// events are the events of b the mirror sends.
func (m *Mirror) events(b *canonical.Batch) []Event {
	var out []Event
	for i := range b.Events {
		ev := &b.Events[i]
		switch {
		case ev.Source == "posthog":
			token := ev.Token
			if token == "" {
				token = m.opts.Token
			}
			if token != "" {
				out = append(out, captureEvent(ev, token))
			}
		case m.opts.Native && m.opts.Token != "":
			out = append(out, nativeEvent(ev, nativeDistinctID(b, ev), m.opts.Token))
		}
	}
	return out
}

// add puts ev in its batch, sending the batch once it is full.
func (m *Mirror) add(ctx context.Context, ev Event, en *spool.WindowEntry) error {
	k := batchKey{token: ev.Token, historical: ev.Historical}
	b := m.pending[k]
	if b == nil {
		if len(m.pending) == 0 {
			m.pendingAt = time.Now()
		}
		b = &batch{token: ev.Token, historical: ev.Historical}
		m.pending[k] = b
	}
	b.add(ev, en)
	if len(b.events) >= m.opts.BatchEvents || b.bytes >= m.opts.BatchBytes {
		delete(m.pending, k)
		return m.send(ctx, b)
	}
	return nil
}

func (m *Mirror) flushAll(ctx context.Context) error {
	for k, b := range m.pending {
		delete(m.pending, k)
		if err := m.send(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

func (m *Mirror) send(ctx context.Context, b *batch) error {
	select {
	case m.out <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Delivered counts events PostHog took, Batches the requests it took,
// Retried the attempts made again, DeadLettered the events refused for
// good, Attempts every exchange.
func (m *Mirror) Delivered() uint64    { return m.delivered.Load() }
func (m *Mirror) Batches() uint64      { return m.batches.Load() }
func (m *Mirror) Retried() uint64      { return m.retried.Load() }
func (m *Mirror) DeadLettered() uint64 { return m.deadLettered.Load() }
func (m *Mirror) Attempts() uint64     { return m.attempts.Load() }

// Lag is the events read and not yet delivered, and how long ago the
// oldest of them was accepted.
func (m *Mirror) Lag() (events int, age time.Duration) { return m.win.Lag(m.opts.Now()) }

// Backlog is the spool bytes the mirror has not read yet.
func (m *Mirror) Backlog() int64 { return m.r.Backlog() }

// BreakerState is "closed", "half-open" or "open".
func (m *Mirror) BreakerState() string { return m.breaker.State().String() }
