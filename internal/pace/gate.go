package pace

import (
	"context"
	"sync"
	"time"
)

// DefaultInterval is how often a Gate judges the pressure: short enough to
// yield within a tenth of a second, long enough for the scheduler's
// histogram to hold thousands of waits.
const DefaultInterval = 100 * time.Millisecond

// Gate bounds the deliveries in flight of one consumer. Its limit runs
// between Min and Max: halved each interval the process is saturated,
// doubled each interval it has CPU to spare. A freed slot goes to the longest
// waiter alone, so that many waiting lanes cost nothing while they wait.
type Gate struct {
	min, max int

	mu       sync.Mutex
	limit    int
	inFlight int
	waiters  []chan struct{} // closed when handed a slot
}

// NewGate starts open at max.
func NewGate(min, max int) *Gate {
	min = max1(min)
	if max < min {
		max = min
	}
	return &Gate{min: min, max: max, limit: max}
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// Acquire waits for a slot under the limit, or for ctx to end.
func (g *Gate) Acquire(ctx context.Context) error {
	g.mu.Lock()
	if g.inFlight < g.limit && len(g.waiters) == 0 {
		g.inFlight++
		g.mu.Unlock()
		return nil
	}
	slot := make(chan struct{})
	g.waiters = append(g.waiters, slot)
	g.mu.Unlock()
	select {
	case <-slot:
		return nil
	case <-ctx.Done():
		g.abandon(slot)
		return ctx.Err()
	}
}

// abandon takes a cancelled waiter out of the queue, or gives back the
// slot it was handed meanwhile.
func (g *Gate) abandon(slot chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, w := range g.waiters {
		if w == slot {
			g.waiters = append(g.waiters[:i], g.waiters[i+1:]...)
			return
		}
	}
	g.inFlight--
	g.handOut()
}

// Release frees the slot an Acquire took.
func (g *Gate) Release() {
	g.mu.Lock()
	g.inFlight--
	g.handOut()
	g.mu.Unlock()
}

// handOut gives the free slots to the longest waiters; g.mu is held.
func (g *Gate) handOut() {
	for g.inFlight < g.limit && len(g.waiters) > 0 {
		g.inFlight++
		close(g.waiters[0])
		g.waiters = g.waiters[1:]
	}
}

// Limit is the current bound on deliveries in flight.
func (g *Gate) Limit() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limit
}

// adjust halves the limit when saturated and doubles it when calm.
func (g *Gate) adjust(v Verdict) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch v {
	case Saturated:
		g.limit = max(g.min, g.limit/2)
	case Calm:
		g.limit = min(g.max, g.limit*2)
		g.handOut()
	}
}

// Paced is what a Pacer adjusts: a Gate or a Budget.
type Paced interface {
	adjust(Verdict)
}

// Pacer judges the pressure every interval and adjusts its gates.
type Pacer struct {
	pressure Pressure
	interval time.Duration
	gates    []Paced
}

// NewPacer paces gates by p, judged every interval (DefaultInterval when 0).
func NewPacer(p Pressure, interval time.Duration, gates ...Paced) *Pacer {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Pacer{pressure: p, interval: interval, gates: gates}
}

// Run adjusts the gates until ctx ends.
func (p *Pacer) Run(ctx context.Context) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			v := p.pressure.Judge()
			for _, g := range p.gates {
				g.adjust(v)
			}
		}
	}
}
