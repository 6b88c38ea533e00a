package posthog

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// ReplayResult counts what a replay did.
type ReplayResult struct {
	Replayed  int // dead letters sent again
	Delivered int // taken by PostHog this time
	Refused   int // refused again: dead-lettered anew with the new answer
}

// Replay sends every dead letter not yet replayed to PostHog again, in
// batches of one token, with their uuids (PostHog stores each once). The
// letters are marked replayed first; what PostHog refuses again is
// dead-lettered anew under a newer version, so nothing leaves the table
// without reaching PostHog. A refused batch is halved down to the events
// refused, as the mirror does.
func Replay(ctx context.Context, c *Client, store DeadLetterStore, log *slog.Logger, now func() time.Time) (ReplayResult, error) {
	var res ReplayResult
	letters, err := store.LoadPostHogDeadLetters(ctx)
	if err != nil || len(letters) == 0 {
		return res, err
	}
	at := now().UnixMilli()
	groups := map[batchKey][]Event{}
	var order []batchKey
	var newest uint64
	for i := range letters {
		l := &letters[i]
		k := batchKey{token: l.Token, historical: l.Historical}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], l.event())
		l.ReplayedAt, l.Version = at, max(l.Version+1, uint64(at))
		newest = max(newest, l.Version)
	}
	if err := store.InsertPostHogDeadLetters(ctx, letters); err != nil {
		return res, fmt.Errorf("mark posthog dead letters replayed: %w", err)
	}
	m := New(nil, Options{Client: c, DeadLetters: &versioned{store: store, after: newest}, Logger: log, Now: now,
		RetryMax: 5 * time.Second, BreakerOpenFor: time.Second})
	for _, k := range order {
		events := groups[k]
		for len(events) > 0 {
			n := min(len(events), m.opts.BatchEvents)
			res.Replayed += n
			before := m.DeadLettered()
			if !m.deliver(ctx, k.token, k.historical, events[:n]) {
				return res, fmt.Errorf("replay interrupted: %w", ctx.Err())
			}
			refused := int(m.DeadLettered() - before)
			res.Refused += refused
			res.Delivered += n - refused
			events = events[n:]
		}
	}
	return res, nil
}

// versioned stores dead letters of a replay under versions newer than the
// replay's marks, so a refusal shows again.
type versioned struct {
	store DeadLetterStore
	after uint64
}

func (v *versioned) InsertPostHogDeadLetters(ctx context.Context, rows []DeadLetter) error {
	for i := range rows {
		rows[i].Version = max(rows[i].Version, v.after+1)
	}
	return v.store.InsertPostHogDeadLetters(ctx, rows)
}

func (v *versioned) LoadPostHogDeadLetters(ctx context.Context) ([]DeadLetter, error) {
	return v.store.LoadPostHogDeadLetters(ctx)
}
