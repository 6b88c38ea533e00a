package posthog

import (
	"context"
	"errors"
	"fmt"

	"github.com/sony/gobreaker/v2"

	"github.com/hogsend/hogsend-proxy/internal/backoff"
)

// errPostHogDown marks an exchange the breaker counts as a failure.
var errPostHogDown = errors.New("posthog unavailable")

// runWorker delivers batches until ctx ends; a batch it could not finish
// is sent again by the next run.
func (m *Mirror) runWorker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-m.out:
			if !m.deliver(ctx, b.token, b.historical, b.events) {
				return
			}
			for _, en := range b.entries {
				m.win.Finish(en)
			}
		}
	}
}

// deliver sends events until PostHog takes them or they are dead-lettered;
// false when ctx ended first.
func (m *Mirror) deliver(ctx context.Context, token string, historical bool, events []Event) bool {
	if b := m.opts.Budget; b != nil && b.Wait(ctx, len(events)) != nil {
		return false
	}
	gz, err := m.gzips.body(token, historical, events)
	if err != nil {
		m.log.Error("mirror batch cannot be built", "err", err)
		return false
	}
	for round := 0; ; round++ {
		a, err := m.exchange(ctx, gz)
		if ctx.Err() != nil {
			return false
		}
		wait := backoff.Jittered(m.opts.RetryInitial, m.opts.RetryMax, round)
		switch {
		case errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests):
			wait = min(wait, m.opts.BreakerOpenFor/4)
		case err != nil:
			// No answer, or 408/5xx: the breaker paces these. A batch that
			// slept its whole backoff would hold the window's cursor well
			// after PostHog is back.
			m.noteRetry(round, len(events), err)
			wait = max(min(wait, m.opts.BreakerOpenFor/4), min(a.RetryAfter, MaxRetryAfter))
		default:
			switch classify(&a) {
			case delivered:
				m.delivered.Add(uint64(len(events)))
				m.batches.Add(1)
				return true
			case refuseAll:
				return m.deadLetter(ctx, events, &a)
			case halve:
				if len(events) == 1 {
					return m.deadLetter(ctx, events, &a)
				}
				half := len(events) / 2
				return m.deliver(ctx, token, historical, events[:half]) && m.deliver(ctx, token, historical, events[half:])
			default:
				m.noteRetry(round, len(events), fmt.Errorf("status %d", a.Status))
				wait = max(wait, min(a.RetryAfter, MaxRetryAfter))
			}
		}
		if backoff.Sleep(ctx, wait) != nil {
			return false
		}
	}
}

// exchange makes one attempt through the breaker.
func (m *Mirror) exchange(ctx context.Context, gz []byte) (Answer, error) {
	return m.breaker.Execute(func() (Answer, error) {
		m.attempts.Add(1)
		a, err := m.opts.Client.Send(ctx, gz)
		if countsAsDown(&a, err) {
			if err == nil {
				err = fmt.Errorf("%w: status %d", errPostHogDown, a.Status)
			}
			return a, err
		}
		return a, nil
	})
}

func (m *Mirror) noteRetry(round, events int, err error) {
	m.retried.Add(1)
	if round == 0 || round%20 == 0 {
		m.log.Warn("mirror to posthog retrying", "events", events, "round", round, "err", err)
	}
}

// deadLetter stores events with PostHog's refusal, retrying the store
// until it takes them: an event leaves the spool only for PostHog or the
// table.
func (m *Mirror) deadLetter(ctx context.Context, events []Event, a *Answer) bool {
	rows := deadLetters(events, a, m.opts.Now())
	for round := 0; ; round++ {
		err := m.opts.DeadLetters.InsertPostHogDeadLetters(ctx, rows)
		if err == nil {
			m.deadLettered.Add(uint64(len(events)))
			m.log.Warn("posthog refused mirrored events; dead-lettered", "events", len(events), "status", a.Status)
			return true
		}
		if round == 0 || round%20 == 0 {
			m.log.Warn("storing posthog dead letters failed; retrying", "err", err)
		}
		if backoff.Sleep(ctx, backoff.Jittered(m.opts.RetryInitial, m.opts.RetryMax, round)) != nil {
			return false
		}
	}
}
