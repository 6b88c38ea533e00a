package ingest

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// ErrClaimPending answers a request whose idempotency key (or PostHog uuid) is
// held by a claim not yet confirmed: an earlier attempt is still in flight, or
// died before its records were durable. 503 + Retry-After: the retry either
// finds the claim confirmed (a stored duplicate) or expired (and stores).
var ErrClaimPending = errors.New("an earlier request with this idempotency key is still being processed; retry")

// claimConfirmer confirms idempotency claims once their records are durable.
// Requests wait for their confirmation, so a client that sends the same key
// again right after the answer sees a duplicate, but concurrent requests'
// confirmations share one store round trip. A confirmation that fails (store
// down) leaves the claim pending until identity.PendingClaimWindow: the
// records are durable and acknowledged all the same, and a retry within that
// time is told to retry.
type claimConfirmer struct {
	store  identity.Claims
	window time.Duration
	reqs   chan *confirmReq
	done   chan struct{}
	log    *slog.Logger
}

type confirmReq struct {
	keys   []string
	ticket string
	done   chan struct{}
}

func newClaimConfirmer(store identity.Claims, window time.Duration, log *slog.Logger) *claimConfirmer {
	c := &claimConfirmer{store: store, window: window, reqs: make(chan *confirmReq, 4096), done: make(chan struct{}), log: log}
	for i := 0; i < 2; i++ {
		go c.run()
	}
	return c
}

// confirm marks keys, and the claims made under ticket (when not empty),
// confirmed and returns when that is done (or failed).
func (c *claimConfirmer) confirm(keys []string, ticket string) {
	if len(keys) == 0 && ticket == "" {
		return
	}
	r := &confirmReq{keys: keys, ticket: ticket, done: make(chan struct{})}
	select {
	case c.reqs <- r:
		<-r.done
	case <-c.done:
		c.flush(keys, ticketList(ticket))
	}
}

func ticketList(ticket string) []string {
	if ticket == "" {
		return nil
	}
	return []string{ticket}
}

func (c *claimConfirmer) run() {
	batch := make([]*confirmReq, 0, 256)
	keys := make([]string, 0, 1024)
	tickets := make([]string, 0, 256)
	for {
		var first *confirmReq
		select {
		case first = <-c.reqs:
		case <-c.done:
			// Answer whatever was queued before the close.
			for {
				select {
				case r := <-c.reqs:
					c.flush(r.keys, ticketList(r.ticket))
					close(r.done)
				default:
					return
				}
			}
		}
		batch, keys, tickets = batch[:0], keys[:0], tickets[:0]
		for r := first; r != nil; {
			batch = append(batch, r)
			keys = append(keys, r.keys...)
			if r.ticket != "" {
				tickets = append(tickets, r.ticket)
			}
			r = nil
			if len(batch) < cap(batch) && len(keys) < 4096 {
				select {
				case r = <-c.reqs:
				default:
				}
			}
		}
		c.flush(keys, tickets)
		for i, r := range batch {
			close(r.done)
			batch[i] = nil
		}
	}
}

func (c *claimConfirmer) flush(keys, tickets []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.store.ConfirmIdempotency(ctx, keys, tickets, c.window); err != nil {
		c.log.Warn("idempotency claims stay pending", "keys", len(keys), "tickets", len(tickets), "err", err)
	}
}

func (c *claimConfirmer) close() { close(c.done) }
