package conversions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/sony/gobreaker/v2"

	"github.com/hogsend/hogsend-proxy/internal/backoff"
	"github.com/hogsend/hogsend-proxy/sinks/spool"
)

// DispatchOptions tune delivery; zero values take the defaults.
type DispatchOptions struct {
	RetryInitial time.Duration // first backoff (1 s)
	// RetryMax caps the backoff (30 s); a platform-requested delay longer
	// than it (Google's 6 h TOO_RECENT) parks the conversion in the
	// deferred queue instead of holding the queue.
	RetryMax time.Duration
	// BreakerFailures consecutive unavailable attempts open the breaker (5).
	BreakerFailures uint32
	BreakerOpenFor  time.Duration // open period before a half-open probe (10 s)
	Now             func() time.Time
	Logger          *slog.Logger
}

func (o *DispatchOptions) defaults() {
	if o.RetryInitial <= 0 {
		o.RetryInitial = time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 30 * time.Second
	}
	if o.BreakerFailures == 0 {
		o.BreakerFailures = 5
	}
	if o.BreakerOpenFor <= 0 {
		o.BreakerOpenFor = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// DeadLetterStore keeps conversions a platform refused for good.
type DeadLetterStore interface {
	InsertConversionDeadLetters(ctx context.Context, rows []ConversionDeadLetter) error
}

// errUnavailable marks an attempt the breaker counts as a failure: the
// platform did not take the batch for a transient reason.
var errUnavailable = errors.New("destination unavailable")

// errHalted stops a dispatcher whose destination is misconfigured.
var errHalted = errors.New("destination halted")

// Dispatcher delivers one destination's queue: in order, in batches of the
// platform's size, retrying transient failures with backoff and jitter
// behind a circuit breaker, splitting batches a platform refused as a
// whole, dead-lettering what it refused for good, and deferring conversions
// the platform asked to wait for longer than the backoff cap.
type Dispatcher struct {
	dest     Destination
	ready    *Queue
	deferred *Queue
	dead     DeadLetterStore
	history  *History
	breaker  *gobreaker.CircuitBreaker[[]Outcome]
	opts     DispatchOptions
	log      *slog.Logger

	halted    atomic.Pointer[string]
	delivered atomic.Uint64
	failed    atomic.Uint64
	retried   atomic.Uint64
	attempts  atomic.Uint64
}

// OpenDispatcher opens dest's queues under dir (ready/ and deferred/).
func OpenDispatcher(dir string, dest Destination, dead DeadLetterStore, history *History, opts DispatchOptions) (*Dispatcher, error) {
	opts.defaults()
	log := opts.Logger.With("destination", dest.Name())
	ready, err := OpenQueue(filepath.Join(dir, "ready"), log)
	if err != nil {
		return nil, err
	}
	deferred, err := OpenQueue(filepath.Join(dir, "deferred"), log)
	if err != nil {
		ready.Close()
		return nil, err
	}
	d := &Dispatcher{dest: dest, ready: ready, deferred: deferred, dead: dead, history: history, opts: opts, log: log}
	d.breaker = gobreaker.NewCircuitBreaker[[]Outcome](gobreaker.Settings{
		Name:        dest.Name(),
		MaxRequests: 1,
		Timeout:     opts.BreakerOpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= opts.BreakerFailures },
		OnStateChange: func(name string, from, to gobreaker.State) {
			log.Warn("conversion breaker "+to.String(), "from", from.String())
		},
	})
	return d, nil
}

// Name is the destination's name.
func (d *Dispatcher) Name() string { return d.dest.Name() }

// Queue is the destination's ready queue, where derived conversions go.
func (d *Dispatcher) Queue() *Queue { return d.ready }

// BreakerState is "closed", "half-open" or "open".
func (d *Dispatcher) BreakerState() string { return d.breaker.State().String() }

// Halted returns the reason the destination stopped, "" while it runs.
func (d *Dispatcher) Halted() string {
	if p := d.halted.Load(); p != nil {
		return *p
	}
	return ""
}

// Backlog is the queued bytes not yet delivered (ready and deferred).
func (d *Dispatcher) Backlog() int64 { return d.ready.Backlog() + d.deferred.Backlog() }

// Delivered, Failed, Retried and Attempts count conversions by outcome and
// requests sent.
func (d *Dispatcher) Delivered() uint64 { return d.delivered.Load() }
func (d *Dispatcher) Failed() uint64    { return d.failed.Load() }
func (d *Dispatcher) Retried() uint64   { return d.retried.Load() }
func (d *Dispatcher) Attempts() uint64  { return d.attempts.Load() }

// Close closes the queues; Run must have returned.
func (d *Dispatcher) Close() error {
	return errors.Join(d.ready.Close(), d.deferred.Close())
}

// Run delivers until ctx ends. A halted destination keeps its queue and
// waits for a restart with a fixed configuration.
func (d *Dispatcher) Run(ctx context.Context) error {
	buf := make([]spool.Entry, 0, 16)
	for ctx.Err() == nil {
		if reason := d.Halted(); reason != "" {
			d.log.Error("conversion destination halted: fix its configuration and restart; its queue is kept",
				"reason", reason, "backlog_bytes", d.Backlog())
			select {
			case <-ctx.Done():
			case <-time.After(time.Minute):
			}
			continue
		}
		if err := d.runDeferred(ctx); err != nil {
			if !errors.Is(err, errHalted) && ctx.Err() == nil {
				d.log.Warn("deferred conversions", "err", err)
			}
			continue
		}
		// Wake at least every second to look at the deferred queue.
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		entries, err := d.ready.r.Next(rctx, cap(buf), buf[:0])
		cancel()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
				continue
			}
			return fmt.Errorf("read %s queue: %w", d.Name(), err)
		}
		var convs []Conversion
		for _, e := range entries {
			qe, err := decodeEntry(e.Data)
			if err != nil {
				// A frame that passed its CRC but is not ours cannot be
				// sent; skip it loudly rather than block the queue.
				d.log.Error("skipping undecodable queue entry", "err", err)
				continue
			}
			convs = append(convs, qe.Conversions...)
		}
		if len(entries) == 0 {
			continue
		}
		if err := d.deliver(ctx, convs); err != nil {
			d.ready.r.Rewind()
			continue
		}
		if err := d.ready.r.Commit(entries[len(entries)-1].Pos); err != nil {
			return fmt.Errorf("commit %s queue: %w", d.Name(), err)
		}
	}
	return nil
}

// runDeferred delivers the deferred entries that are due, oldest first.
func (d *Dispatcher) runDeferred(ctx context.Context) error {
	var buf [1]spool.Entry
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Millisecond)
		entries, err := d.deferred.r.Next(rctx, 1, buf[:0])
		cancel()
		if err != nil || len(entries) == 0 {
			if err != nil && !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				return fmt.Errorf("read %s deferred queue: %w", d.Name(), err)
			}
			return nil
		}
		qe, err := decodeEntry(entries[0].Data)
		if err == nil {
			if qe.NotBefore > d.opts.Now().UnixMilli() {
				d.deferred.r.Rewind()
				return nil
			}
			if err := d.deliver(ctx, qe.Conversions); err != nil {
				d.deferred.r.Rewind()
				return err
			}
		} else {
			d.log.Error("skipping undecodable deferred entry", "err", err)
		}
		if err := d.deferred.r.Commit(entries[0].Pos); err != nil {
			return fmt.Errorf("commit %s deferred queue: %w", d.Name(), err)
		}
	}
}

// deliver sends convs until each is delivered, dead-lettered or deferred.
// It returns an error only when it stopped early (shutdown, halt, a dead
// letter that could not be stored): the caller then keeps the entries.
func (d *Dispatcher) deliver(ctx context.Context, convs []Conversion) error {
	attempts := make(map[string]uint32, len(convs))
	work := splitBatches(convs, d.dest.MaxBatch())
	round := 0
	for len(work) > 0 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		batch := work[0]
		start := d.opts.Now()
		outcomes, err := d.sendOnce(ctx, batch)
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			// The queue holds while the breaker is open; nothing is
			// dropped. Poll until it lets a half-open probe through.
			if backoff.Sleep(ctx, min(d.opts.BreakerOpenFor/10+10*time.Millisecond, time.Second)) != nil {
				return ctx.Err()
			}
			continue
		}
		if err != nil && !errors.Is(err, errUnavailable) {
			return err
		}
		latency := d.opts.Now().Sub(start)
		work = work[1:]
		if len(batch) > 1 && allWholeBatchRejects(outcomes) {
			// One bad conversion may have sunk the batch: split it and
			// re-send the halves until the bad one stands alone.
			half := len(batch) / 2
			work = append([][]Conversion{batch[:half], batch[half:]}, work...)
			continue
		}
		retry, wait, err2 := d.settle(ctx, batch, outcomes, attempts, latency)
		if err2 != nil {
			return err2
		}
		if len(retry) == 0 {
			round = 0
			continue
		}
		requeue, err2 := d.retryLater(ctx, retry, wait, errors.Is(err, errUnavailable), &round)
		if err2 != nil {
			return err2
		}
		if requeue {
			work = append([][]Conversion{retry}, work...)
		}
	}
	return nil
}

// splitBatches cuts convs into batches of at most max.
func splitBatches(convs []Conversion, max int) [][]Conversion {
	var work [][]Conversion
	for len(convs) > 0 {
		n := min(len(convs), max)
		work = append(work, convs[:n])
		convs = convs[n:]
	}
	return work
}

// sendOnce sends batch through the breaker; a batch answered Retry whole
// counts as the platform being unavailable (errUnavailable, with outcomes).
func (d *Dispatcher) sendOnce(ctx context.Context, batch []Conversion) ([]Outcome, error) {
	return d.breaker.Execute(func() ([]Outcome, error) {
		d.attempts.Add(1)
		out := d.dest.Send(ctx, batch)
		if len(out) != len(batch) {
			return nil, fmt.Errorf("%s client returned %d outcomes for %d conversions", d.Name(), len(out), len(batch))
		}
		if allRetry(out) {
			return out, errUnavailable
		}
		return out, nil
	})
}

// settle records the outcome of each conversion of batch and dead-letters
// those refused for good; it returns those to retry and the longest wait
// the platform asked for, or errHalted when the destination must stop.
func (d *Dispatcher) settle(ctx context.Context, batch []Conversion, outcomes []Outcome, attempts map[string]uint32, latency time.Duration) ([]Conversion, time.Duration, error) {
	var retry []Conversion
	var wait time.Duration
	var dead []ConversionDeadLetter
	for i, o := range outcomes {
		c := &batch[i]
		attempts[c.DedupID]++
		n := attempts[c.DedupID]
		switch o.Class {
		case Delivered:
			d.delivered.Add(1)
			d.record(c, StatusDelivered, n, o, latency)
		case Retry:
			d.retried.Add(1)
			retry = append(retry, *c)
			wait = max(wait, o.RetryAfter)
			d.record(c, StatusPending, n, o, latency)
		case Rejected:
			dead = append(dead, d.deadLetter(c, o.Reason))
			d.record(c, StatusFailed, n, o, latency)
		case Halt:
			d.record(c, StatusPending, n, o, latency)
			reason := o.Reason
			d.halted.Store(&reason)
			d.log.Error("conversion destination halted: fix its configuration and restart; its queue is kept",
				"reason", reason, "status", o.Status)
			return nil, 0, errHalted
		}
	}
	if len(dead) > 0 {
		if err := d.storeDeadLetters(ctx, dead); err != nil {
			return nil, 0, err
		}
		d.failed.Add(uint64(len(dead)))
	}
	return retry, wait, nil
}

// retryLater waits before retry goes again (requeue), or, for a wait the
// platform asked for past RetryMax (e.g. Google's TOO_RECENT), parks the
// conversions durably and goes on.
func (d *Dispatcher) retryLater(ctx context.Context, retry []Conversion, wait time.Duration, unavailable bool, round *int) (requeue bool, err error) {
	if wait > d.opts.RetryMax {
		return false, d.deferred.Append(ctx, retry, d.opts.Now().Add(wait).UnixMilli())
	}
	limit := d.opts.RetryMax
	if unavailable {
		// The platform is down: the breaker paces the probes, so backing
		// off longer than its open period only delays recovery.
		limit = min(limit, d.opts.BreakerOpenFor)
	}
	wait = max(wait, backoff.Jittered(d.opts.RetryInitial, limit, *round))
	*round++
	d.log.Debug("retrying conversions", "count", len(retry), "in", wait)
	if backoff.Sleep(ctx, wait) != nil {
		return false, ctx.Err()
	}
	return true, nil
}

// storeDeadLetters keeps refused conversions, retrying while ClickHouse is
// unreachable: the queue entry is only committed once they are stored.
func (d *Dispatcher) storeDeadLetters(ctx context.Context, rows []ConversionDeadLetter) error {
	for wait := d.opts.RetryInitial; ; wait = min(2*wait, d.opts.RetryMax) {
		err := d.dead.InsertConversionDeadLetters(ctx, rows)
		if err == nil {
			return nil
		}
		d.log.Warn("storing conversion dead letters failed; retrying", "err", err, "count", len(rows))
		if backoff.Sleep(ctx, wait) != nil {
			return ctx.Err()
		}
	}
}

func (d *Dispatcher) deadLetter(c *Conversion, reason string) ConversionDeadLetter {
	body, _ := json.Marshal(c)
	now := d.opts.Now().UnixMilli()
	return ConversionDeadLetter{
		Destination: d.Name(), DedupID: c.DedupID, Conversion: body, Reason: reason,
		FailedAt: now, Version: uint64(now),
	}
}

func (d *Dispatcher) record(c *Conversion, status string, attempts uint32, o Outcome, latency time.Duration) {
	if d.history == nil {
		return
	}
	row := dispatchRow(c, d.Name(), status, d.opts.Now().UnixMilli())
	row.Attempts, row.HTTPStatus, row.LastError = attempts, uint16(o.Status), o.Reason
	row.LatencyMs = uint32(min(latency.Milliseconds(), 1<<31))
	d.history.Record(row)
}

// dispatchRow is the conversion_dispatches row of c at destination.
func dispatchRow(c *Conversion, destination, status string, at int64) Dispatch {
	eventID, _ := uuid.Parse(c.EventID)
	contactID, _ := uuid.Parse(c.ContactID)
	return Dispatch{
		At: at, Destination: destination, DedupID: c.DedupID, RuleID: c.RuleID,
		EventID: eventID, ContactID: contactID, EventName: c.EventName, Status: status,
	}
}

func allRetry(out []Outcome) bool {
	for _, o := range out {
		if o.Class != Retry {
			return false
		}
	}
	return len(out) > 0
}

// allWholeBatchRejects: every conversion was rejected and the platform
// refused the request as a whole (the others were refused by the client
// before sending and will be again, alone, with their own reason).
func allWholeBatchRejects(out []Outcome) bool {
	whole := false
	for _, o := range out {
		if o.Class != Rejected {
			return false
		}
		whole = whole || o.WholeBatch
	}
	return whole
}

// Destination is the platform client this dispatcher delivers to.
func (d *Dispatcher) Destination() Destination { return d.dest }
