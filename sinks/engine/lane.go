package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/hogsend/hogsend-proxy/internal/backoff"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// errEngineDown marks an exchange the breaker counts as a failure.
var errEngineDown = errors.New("hogsend engine unavailable")

// runLane delivers one lane's calls one after another, so a contact's calls
// reach the engine in spool order.
func (h *HandOff) runLane(ctx context.Context, lane <-chan *item) {
	for {
		select {
		case <-ctx.Done():
			return
		case it := <-lane:
			if !h.deliver(ctx, &it.req) {
				return // ctx ended: the call is sent again by the next run
			}
			h.win.Finish(it.entry)
		}
	}
}

// deliver sends r until the engine takes or refuses it, or ctx ends.
func (h *HandOff) deliver(ctx context.Context, r *Request) bool {
	for round := 0; ; round++ {
		a, err := h.exchange(ctx, r)
		if ctx.Err() != nil {
			return false
		}
		var wait = backoff.Jittered(h.opts.RetryInitial, h.opts.RetryMax, round)
		switch {
		case errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests):
			wait = min(wait, h.opts.BreakerOpenFor/4)
		case err != nil:
			// No answer, or 408/5xx: the breaker paces these. A lane that
			// slept its whole backoff would hold the window's cursor, and
			// with it every other lane, well after the engine is back.
			h.noteRetry(round, r, "engine unavailable", err)
			wait = max(min(wait, h.opts.BreakerOpenFor/4), min(a.RetryAfter, MaxRetryAfter))
		default:
			switch classify(r, &a) {
			case delivered:
				h.delivered.Add(1)
				h.answer(r, a)
				return true
			case refused:
				if !h.deadLetter(ctx, r, &a) {
					return false
				}
				h.answer(r, a)
				return true
			case hold:
				h.noteRetry(round, r, "the engine refuses the hand-off's key", fmt.Errorf("status %d: %.200s", a.Status, a.Body))
				wait = max(wait, h.opts.RetryMax)
			default:
				h.noteRetry(round, r, "engine busy", fmt.Errorf("status %d", a.Status))
				wait = max(wait, min(a.RetryAfter, MaxRetryAfter))
			}
		}
		if backoff.Sleep(ctx, wait) != nil {
			return false
		}
	}
}

// exchange makes one attempt through the breaker, once the budget and the
// gate have room (the budget first, so that a wait holds no slot).
func (h *HandOff) exchange(ctx context.Context, r *Request) (Answer, error) {
	if b := h.opts.Budget; b != nil {
		if err := b.Wait(ctx, 1); err != nil {
			return Answer{}, err
		}
	}
	if g := h.opts.Gate; g != nil {
		if err := g.Acquire(ctx); err != nil {
			return Answer{}, err
		}
		defer g.Release()
	}
	return h.breaker.Execute(func() (Answer, error) {
		h.attempts.Add(1)
		a, err := h.opts.Client.Send(ctx, r)
		if countsAsDown(&a, err) {
			if err == nil {
				err = fmt.Errorf("%w: status %d", errEngineDown, a.Status)
			}
			return a, err
		}
		return a, nil
	})
}

func (h *HandOff) noteRetry(round int, r *Request, what string, err error) {
	h.retried.Add(1)
	if round == 0 || round%20 == 0 {
		h.log.Warn("hand-off to the engine retrying", "what", what, "method", r.Method, "path", r.Path, "call", r.Call, "round", round, "err", err)
	}
}

// deadLetter stores r with the engine's refusal, retrying the store until
// it takes it: a record leaves the spool only for the engine or the table.
func (h *HandOff) deadLetter(ctx context.Context, r *Request, a *Answer) bool {
	row := newDeadLetter(r, a, h.opts.Now().UnixMilli())
	for round := 0; ; round++ {
		err := h.opts.DeadLetters.InsertEngineDeadLetters(ctx, []DeadLetter{row})
		if err == nil {
			h.deadLettered.Add(1)
			h.log.Warn("engine refused a hand-off record; dead-lettered", "method", r.Method, "path", r.Path, "call", r.Call, "status", a.Status)
			return true
		}
		if round == 0 || round%20 == 0 {
			h.log.Warn("storing an engine dead letter failed; retrying", "err", err)
		}
		if backoff.Sleep(ctx, backoff.Jittered(h.opts.RetryInitial, h.opts.RetryMax, round)) != nil {
			return false
		}
	}
}

// answer passes the engine's answer to a client that may be waiting for it.
func (h *HandOff) answer(r *Request, a Answer) {
	if h.opts.Answers == nil || !r.Awaited || !(h.opts.Sync || r.Kind == canonical.CallDelete) {
		return
	}
	h.opts.Answers.deliver(r.Call, a)
}

// Delivered counts calls the engine took, Retried the attempts that will be
// made again, DeadLettered the calls refused for good, Attempts every
// exchange.
func (h *HandOff) Delivered() uint64    { return h.delivered.Load() }
func (h *HandOff) Retried() uint64      { return h.retried.Load() }
func (h *HandOff) DeadLettered() uint64 { return h.deadLettered.Load() }
func (h *HandOff) Attempts() uint64     { return h.attempts.Load() }

// Undeliverable counts calls that could not be built (a bug; logged).
func (h *HandOff) Undeliverable() uint64 { return h.undeliverable.Load() }

// Lag is the calls read and not yet delivered, and how long ago the oldest
// of them was accepted.
func (h *HandOff) Lag() (calls int, age time.Duration) { return h.win.Lag(h.opts.Now()) }

// Backlog is the spool bytes the hand-off has not read yet.
func (h *HandOff) Backlog() int64 { return h.r.Backlog() }

// BreakerState is "closed", "half-open" or "open".
func (h *HandOff) BreakerState() string { return h.breaker.State().String() }
