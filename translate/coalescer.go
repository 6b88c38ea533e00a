package translate

import (
	"context"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// Coalescer merges resolve ops of concurrent requests into one Store.Resolve
// call, so the identity store sees one round trip per burst instead of one per
// request. Each worker takes what is queued, up to maxBatch ops, and resolves it;
// with several workers, round trips overlap.
type Coalescer struct {
	store    identity.Store
	reqs     chan *pendingResolve
	maxBatch int
	timeout  time.Duration
	done     chan struct{}
}

type pendingResolve struct {
	op   identity.ResolveOp
	res  identity.ResolveResult
	err  error
	done chan struct{}
}

// NewCoalescer starts workers goroutines that resolve batches of at most
// maxBatch ops, each call bounded by timeout.
func NewCoalescer(store identity.Store, workers, maxBatch int, timeout time.Duration) *Coalescer {
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

// Resolve queues op and waits for its result. It does not give up when the
// caller's context ends: the op may already be applied, and its caller must see
// the outcome (an idempotency key claimed for an event that was never stored
// would lose the event on retry).
func (c *Coalescer) Resolve(op identity.ResolveOp) (identity.ResolveResult, error) {
	p := &pendingResolve{op: op, done: make(chan struct{})}
	select {
	case c.reqs <- p:
	case <-c.done:
		return p.res, ErrIdentityStoreDown
	}
	<-p.done
	return p.res, p.err
}

// Close stops the workers once queued ops are done.
func (c *Coalescer) Close() { close(c.done) }

func (c *Coalescer) work() {
	batch := make([]*pendingResolve, 0, c.maxBatch)
	ops := make([]identity.ResolveOp, 0, c.maxBatch)
	results := make([]identity.ResolveResult, c.maxBatch)
	for {
		var first *pendingResolve
		select {
		case first = <-c.reqs:
		case <-c.done:
			return
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < c.maxBatch {
			select {
			case p := <-c.reqs:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		ops = ops[:0]
		for _, p := range batch {
			ops = append(ops, p.op)
		}
		res := results[:len(batch)]
		for i := range res {
			res[i] = identity.ResolveResult{}
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		err := c.store.Resolve(ctx, ops, res)
		cancel()
		for i, p := range batch {
			p.res, p.err = res[i], err
			if err == nil {
				p.err = res[i].Err
			}
			close(p.done)
			batch[i] = nil
		}
	}
}
