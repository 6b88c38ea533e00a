package engine

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Answers passes the engine's answers to awaited calls on to the requests
// waiting for them (HOGSEND_UPSTREAM_MODE=sync, and deletes). A call may be
// delivered before its request starts waiting, so an answer nobody waits for
// is kept for keepFor, at most maxKept of them.
type Answers struct {
	mu      sync.Mutex
	waiting map[uuid.UUID]chan Answer
	kept    map[uuid.UUID]keptAnswer
	order   []uuid.UUID // kept ids, oldest first
}

type keptAnswer struct {
	a  Answer
	at time.Time
}

const (
	keepFor = 30 * time.Second
	maxKept = 4096
)

// NewAnswers returns an empty registry.
func NewAnswers() *Answers {
	return &Answers{waiting: make(map[uuid.UUID]chan Answer), kept: make(map[uuid.UUID]keptAnswer)}
}

// Await waits up to timeout for the engine's answer to call; ok is false
// when it did not come in time.
func (s *Answers) Await(ctx context.Context, call uuid.UUID, timeout time.Duration) (Answer, bool) {
	s.mu.Lock()
	if k, ok := s.kept[call]; ok {
		delete(s.kept, call)
		s.mu.Unlock()
		return k.a, true
	}
	ch := make(chan Answer, 1)
	s.waiting[call] = ch
	s.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case a := <-ch:
		return a, true
	case <-t.C:
	case <-ctx.Done():
	}
	s.mu.Lock()
	delete(s.waiting, call)
	s.mu.Unlock()
	select { // delivered while giving up
	case a := <-ch:
		return a, true
	default:
		return Answer{}, false
	}
}

// deliver hands a's answer to its waiter, or keeps it for a while.
func (s *Answers) deliver(call uuid.UUID, a Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.waiting[call]; ok {
		delete(s.waiting, call)
		ch <- a
		return
	}
	now := time.Now()
	for len(s.order) > 0 && (len(s.order) >= maxKept || now.Sub(s.kept[s.order[0]].at) > keepFor) {
		delete(s.kept, s.order[0])
		s.order = s.order[1:]
	}
	s.kept[call] = keptAnswer{a: a, at: now}
	s.order = append(s.order, call)
}
