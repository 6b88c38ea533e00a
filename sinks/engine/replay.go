package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/backoff"
)

// ReplayResult counts what a replay did.
type ReplayResult struct {
	Replayed  int // dead letters sent again
	Delivered int // taken by the engine this time
	Refused   int // refused again: dead-lettered anew with the new answer
}

// replayRounds bounds the attempts of one dead letter while the engine is
// busy or unreachable; one that still has no answer is dead-lettered anew.
const replayRounds = 6

// Replay sends every dead letter not yet replayed to the engine again, in
// the order they failed, with their idempotency keys, so the engine stores
// an event at most once. The letters are marked replayed first; one not
// delivered this time becomes a dead letter again under a newer version,
// so nothing leaves the table without reaching the engine.
func Replay(ctx context.Context, c *Client, store DeadLetterStore, now func() time.Time) (ReplayResult, error) {
	var res ReplayResult
	letters, err := store.LoadEngineDeadLetters(ctx)
	if err != nil || len(letters) == 0 {
		return res, err
	}
	at := now().UnixMilli()
	marks := make([]DeadLetter, len(letters))
	var newest uint64
	for i, l := range letters {
		l.ReplayedAt, l.Version = at, max(l.Version+1, uint64(at))
		marks[i], newest = l, max(newest, l.Version)
	}
	if err := store.InsertEngineDeadLetters(ctx, marks); err != nil {
		return res, fmt.Errorf("mark engine dead letters replayed: %w", err)
	}
	for i := range letters {
		res.Replayed++
		r := letters[i].request()
		a, ok := sendOnce(ctx, c, &r)
		if ok && classify(&r, &a) == delivered {
			res.Delivered++
			continue
		}
		res.Refused++
		again := newDeadLetter(&r, &a, now().UnixMilli())
		again.Version = max(again.Version, newest+1)
		if err := store.InsertEngineDeadLetters(ctx, []DeadLetter{again}); err != nil {
			return res, fmt.Errorf("dead-letter replayed call %s again: %w", r.Call, err)
		}
	}
	return res, nil
}

// sendOnce sends r until the engine gives a final answer, at most
// replayRounds times; ok is false when it never answered finally.
func sendOnce(ctx context.Context, c *Client, r *Request) (Answer, bool) {
	var a Answer
	for round := range replayRounds {
		var err error
		a, err = c.Send(ctx, r)
		if err == nil && classify(r, &a) != retry && classify(r, &a) != hold {
			return a, true
		}
		wait := backoff.Jittered(200*time.Millisecond, 5*time.Second, round)
		if err == nil {
			wait = max(wait, min(a.RetryAfter, 30*time.Second))
		}
		if backoff.Sleep(ctx, wait) != nil {
			break
		}
	}
	if a.Status == 0 {
		a.Body = []byte("no final answer from the engine during the replay")
	}
	return a, false
}
