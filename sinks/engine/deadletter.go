package engine

import (
	"context"

	"github.com/google/uuid"
)

// DeadLetter is a request the engine refused for good, with its answer,
// kept in the engine_dead_letters table until `hogsend-proxy upstream
// replay` sends it again. A later version of the same call marks it
// replayed.
type DeadLetter struct {
	Call           uuid.UUID
	Kind           uint8
	ContactID      uuid.UUID
	Method         string
	Path           string
	IdempotencyKey string
	Body           []byte
	Status         int    // the engine's status
	Answer         []byte // the engine's body, at most maxKeptAnswer bytes
	FailedAt       int64  // Unix ms
	ReplayedAt     int64  // Unix ms, 0 until replayed
	Version        uint64
}

// maxKeptAnswer bounds the engine's answer kept with a dead letter.
const maxKeptAnswer = 4 << 10

// DeadLetterStore keeps dead letters (ClickHouse).
type DeadLetterStore interface {
	InsertEngineDeadLetters(ctx context.Context, rows []DeadLetter) error
	LoadEngineDeadLetters(ctx context.Context) ([]DeadLetter, error)
}

// newDeadLetter is r refused with a.
func newDeadLetter(r *Request, a *Answer, now int64) DeadLetter {
	answer := a.Body
	if len(answer) > maxKeptAnswer {
		answer = answer[:maxKeptAnswer]
	}
	return DeadLetter{
		Call: r.Call, Kind: r.Kind, ContactID: r.ContactID, Method: r.Method, Path: r.Path,
		IdempotencyKey: r.IdempotencyKey, Body: r.Body, Status: a.Status, Answer: clone(answer),
		FailedAt: now, Version: uint64(now),
	}
}

// request is the dead letter's request, to send again.
func (d *DeadLetter) request() Request {
	return Request{Call: d.Call, Kind: d.Kind, ContactID: d.ContactID, Method: d.Method, Path: d.Path,
		IdempotencyKey: d.IdempotencyKey, Body: d.Body}
}
