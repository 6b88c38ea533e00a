package ingest

import (
	"context"
	"fmt"
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
}

// errCoalescerClosed refuses ops queued after Close; the store is as good as
// down for them.
var errCoalescerClosed = fmt.Errorf("%w: resolver closed", identity.ErrUnavailable)

type pendingResolve struct {
	ops  []identity.ResolveOp
	res  []identity.ResolveResult
	err  error
	done chan struct{}
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
	var res [1]identity.ResolveResult
	err := c.ResolveAll([]identity.ResolveOp{op}, res[:])
	if err == nil {
		err = res[0].Err
	}
	return res[0], err
}

// ResolveAll queues ops as one unit and waits for their results. It does not
// give up when the caller goes away: the ops may already be applied, and their
// caller must see the outcome (an idempotency key claimed for an event that
// was never stored would lose the event on retry).
func (c *Coalescer) ResolveAll(ops []identity.ResolveOp, res []identity.ResolveResult) error {
	p := &pendingResolve{ops: ops, res: res[:len(ops)], done: make(chan struct{})}
	select {
	case c.reqs <- p:
	case <-c.done:
		return errCoalescerClosed
	}
	<-p.done
	return p.err
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
			close(p.done)
			batch[i] = nil
		}
		clear(results)
	}
}
