package posthog

import (
	"context"
	"time"
)

// DeadLetter is an event PostHog refused for good, as the mirror sent it,
// with PostHog's answer, kept in the posthog_dead_letters table until
// `hogsend-proxy posthog replay` sends it again. A later version of the
// same uuid marks it replayed.
type DeadLetter struct {
	UUID       string
	Token      string
	Historical bool
	Event      []byte // the event's JSON in a /batch/ body
	Status     int    // PostHog's status
	Answer     []byte // PostHog's body, at most maxKeptAnswer bytes
	FailedAt   int64  // Unix ms
	ReplayedAt int64  // Unix ms, 0 until replayed
	Version    uint64
}

// maxKeptAnswer bounds PostHog's answer kept with a dead letter.
const maxKeptAnswer = 4 << 10

// DeadLetterStore keeps dead letters (ClickHouse).
type DeadLetterStore interface {
	InsertPostHogDeadLetters(ctx context.Context, rows []DeadLetter) error
	LoadPostHogDeadLetters(ctx context.Context) ([]DeadLetter, error)
}

// deadLetters are events refused with a, failed at now.
func deadLetters(events []Event, a *Answer, now time.Time) []DeadLetter {
	answer := a.Body
	if len(answer) > maxKeptAnswer {
		answer = answer[:maxKeptAnswer]
	}
	at := now.UnixMilli()
	rows := make([]DeadLetter, len(events))
	for i, e := range events {
		rows[i] = DeadLetter{UUID: e.UUID, Token: e.Token, Historical: e.Historical, Event: e.JSON,
			Status: a.Status, Answer: append([]byte(nil), answer...), FailedAt: at, Version: uint64(at)}
	}
	return rows
}

func (d *DeadLetter) event() Event {
	return Event{UUID: d.UUID, Token: d.Token, Historical: d.Historical, JSON: d.Event}
}
