package ingest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// Coalescer merges the resolve ops of concurrent requests into one
// Store.Resolve call, so the identity store sees one round trip per burst
// instead of one per request. Each worker takes what is queued, up to
// maxBatch ops, and resolves it; with several workers, round trips overlap.
// A request's ops stay together and in order in one call, so a batch's
// $identify is applied after the events that came before it.
type Coalescer struct {
	store    identity.Resolver
	reqs     chan *pendingResolve
	maxBatch int
	timeout  time.Duration
	done     chan struct{}
	// pending keeps *pendingResolve for reuse: a request would otherwise
	// allocate one, its channel and its one-op slices.
	pending sync.Pool
}

// errCoalescerClosed refuses ops queued after Close; the store is as good as
// down for them.
var errCoalescerClosed = fmt.Errorf("%w: resolver closed", identity.ErrUnavailable)

// pendingResolve is one caller's ops waiting for a worker. done holds one
// signal per use, so that it outlives the use and the value can be reused.
type pendingResolve struct {
	ops  []identity.ResolveOp
	res  []identity.ResolveResult
	err  error
	done chan struct{}
	// one and oneRes hold the op and result of Resolve.
	one    [1]identity.ResolveOp
	oneRes [1]identity.ResolveResult
}

// NewCoalescer starts workers goroutines that resolve batches of about
// maxBatch ops, each call bounded by timeout.
func NewCoalescer(store identity.Resolver, workers, maxBatch int, timeout time.Duration) *Coalescer {
	c := &Coalescer{
		store:    store,
		reqs:     make(chan *pendingResolve, workers*maxBatch),
		maxBatch: maxBatch,
		timeout:  timeout,
		done:     make(chan struct{}),
	}
	for i := 0; i < workers; i++ {
		go c.work()
	}
	return c
}

// Resolve queues one op and waits for its result.
func (c *Coalescer) Resolve(op identity.ResolveOp) (identity.ResolveResult, error) {
	p := c.get()
	defer c.put(p)
	p.one[0] = op
	err := c.wait(p, p.one[:], p.oneRes[:])
	if err == nil {
		err = p.oneRes[0].Err
	}
	return p.oneRes[0], err
}

// ResolveAll queues ops as one unit and waits for their results. It does not
// give up when the caller goes away: the ops may already be applied, and their
// caller must see the outcome (an idempotency key claimed for an event that
// was never stored would lose the event on retry).
func (c *Coalescer) ResolveAll(ops []identity.ResolveOp, res []identity.ResolveResult) error {
	p := c.get()
	defer c.put(p)
	return c.wait(p, ops, res[:len(ops)])
}

// wait queues ops as p and waits for their results in res.
func (c *Coalescer) wait(p *pendingResolve, ops []identity.ResolveOp, res []identity.ResolveResult) error {
	p.ops, p.res, p.err = ops, res, nil
	select {
	case c.reqs <- p:
	case <-c.done:
		return errCoalescerClosed
	}
	<-p.done
	return p.err
}

func (c *Coalescer) get() *pendingResolve {
	if p, ok := c.pending.Get().(*pendingResolve); ok {
		return p
	}
	return &pendingResolve{done: make(chan struct{}, 1)}
}

// put gives p back once its worker has signalled, clearing what refers to
// the caller's ops and results.
func (c *Coalescer) put(p *pendingResolve) {
	p.ops, p.res, p.err = nil, nil, nil
	clear(p.one[:])
	clear(p.oneRes[:])
	c.pending.Put(p)
}

// Close stops the workers once queued ops are done.
func (c *Coalescer) Close() { close(c.done) }

func (c *Coalescer) work() {
	batch := make([]*pendingResolve, 0, c.maxBatch)
	ops := make([]identity.ResolveOp, 0, c.maxBatch)
	results := make([]identity.ResolveResult, 0, c.maxBatch)
	for {
		var first *pendingResolve
		select {
		case first = <-c.reqs:
		case <-c.done:
			return
		}
		batch = append(batch[:0], first)
		n := len(first.ops)
	fill:
		for n < c.maxBatch {
			select {
			case p := <-c.reqs:
				batch = append(batch, p)
				n += len(p.ops)
			default:
				break fill
			}
		}
		ops = ops[:0]
		for _, p := range batch {
			ops = append(ops, p.ops...)
		}
		if cap(results) < len(ops) {
			results = make([]identity.ResolveResult, len(ops))
		}
		results = results[:len(ops)]
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		err := c.store.Resolve(ctx, ops, results)
		cancel()
		off := 0
		for i, p := range batch {
			copy(p.res, results[off:off+len(p.ops)])
			off += len(p.ops)
			p.err = err
			p.done <- struct{}{}
			batch[i] = nil
		}
		clear(results)
	}
}
