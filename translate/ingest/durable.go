package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/native"
)

// ErrTooLargeToStore refuses a request whose records exceed what one journal
// entry holds: a retry would fail the same way, so it is a client error (413),
// never a 503. A Journal's Append wraps it for such a payload.
var ErrTooLargeToStore = errors.New("request too large to store")

// errPendingFull refuses a write before its resolve while the identity changes
// of earlier failed writes fill their bound: it would change identity state
// that could not be kept either.
var errPendingFull = errors.New("identity changes of earlier failed writes are not durable yet")

// errDeleteNotDurable answers the retry of a delete still held.
var errDeleteNotDurable = errors.New("an earlier delete of this contact is not durable yet")

const (
	defaultPendingMaxBytes      = 16 << 20
	defaultPendingFlushInterval = time.Second
	pendingFlushTimeout         = 10 * time.Second
	admitFlushGap               = 100 * time.Millisecond
)

// commit makes b durable in one journal entry.
func (in *Ingestor) commit(ctx context.Context, b *canonical.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	buf, _ := in.bufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	*buf = canonical.AppendBatch((*buf)[:0], b)
	err := in.journal.Append(ctx, *buf)
	if cap(*buf) <= 1<<20 {
		in.bufs.Put(buf)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrTooLargeToStore):
		return err
	default:
		return fmt.Errorf("%w: %w", ErrNotDurable, err)
	}
}

// PendingIdentity is the number of identity rows of failed writes held for a
// later write, and their estimated bytes.
func (in *Ingestor) PendingIdentity() (rows, bytes int) { return in.pending.size() }

// admit refuses new work while the held identity changes are at their bound
// and a flush cannot make them durable now.
func (in *Ingestor) admit(ctx context.Context) error {
	if !in.pending.full() {
		return nil
	}
	// While the journal fails, one attempt per gap serves every request.
	if last := in.flushedAt.Load(); time.Since(time.Unix(0, last)) >= admitFlushGap {
		in.flushPending(ctx)
	}
	if in.pending.full() {
		return fmt.Errorf("%w: %w", ErrNotDurable, errPendingFull)
	}
	return nil
}

// carryPending adds to b the held identity rows of the people the resolves
// touched; settle must follow a durable commit when it reports true.
func (in *Ingestor) carryPending(b *canonical.Batch, results ...*identity.ResolveResult) bool {
	if in.pending.empty() {
		return false
	}
	ids := make([]uuid.UUID, 0, 2*len(results))
	for _, res := range results {
		if !res.Found {
			continue
		}
		ids = append(ids, res.Contact.ID)
		for i := range res.Losers {
			ids = append(ids, res.Losers[i].ID)
		}
	}
	return in.pending.carry(b, ids)
}

// keepFailed holds the rows the resolves put in a batch that did not become
// durable. A batch too large for the journal leaves the spool usable: its
// identity rows are written on their own at once.
func (in *Ingestor) keepFailed(ctx context.Context, err error, results ...*identity.ResolveResult) {
	newest := newestVersions(results)
	for _, res := range results {
		in.rows.forget(res.Contact.ID)
		rows := res.Losers
		if res.Contact.Version >= newest[res.Contact.ID] {
			rows = append([]canonical.Contact{res.Contact}, res.Losers...)
		}
		in.pending.keep(res.Contact.ID, rows, res.Aliases)
	}
	if errors.Is(err, ErrTooLargeToStore) {
		in.flushPending(ctx)
	}
}

// newestVersions is the newest version of each contact among results (nil
// for one): an older row of a contact is not worth copying.
func newestVersions(results []*identity.ResolveResult) map[uuid.UUID]uint64 {
	if len(results) < 2 {
		return nil
	}
	newest := make(map[uuid.UUID]uint64, len(results))
	for _, res := range results {
		newest[res.Contact.ID] = max(newest[res.Contact.ID], res.Contact.Version)
	}
	return newest
}

// keepDeleted holds the rows of a delete that did not become durable, each
// contact with its own tombstones.
func (in *Ingestor) keepDeleted(ctx context.Context, err error, deleted []canonical.Contact, tombstones []canonical.Alias) {
	for i := range deleted {
		var own []canonical.Alias
		for _, a := range tombstones {
			if a.ContactID == deleted[i].ID {
				own = append(own, a)
			}
		}
		in.pending.keep(deleted[i].ID, deleted[i:i+1], own)
	}
	if errors.Is(err, ErrTooLargeToStore) {
		in.flushPending(ctx)
	}
}

// retriedDelete answers a delete whose keys match no live contact: the
// retry of a delete that was not made durable succeeds once its tombstones
// are, and is refused with 503 until then; otherwise it is not found.
func (in *Ingestor) retriedDelete(ctx context.Context, k native.ContactKeys) error {
	if !in.pending.holdsTombstone(k.Email, k.UserID) {
		return ErrContactNotFound
	}
	in.flushPending(ctx)
	if in.pending.holdsTombstone(k.Email, k.UserID) {
		return fmt.Errorf("%w: %w", ErrNotDurable, errDeleteNotDurable)
	}
	return nil
}

// flushPending writes every held row, in as many journal entries as their
// size needs, and drops what became durable.
func (in *Ingestor) flushPending(ctx context.Context) {
	if in.pending.empty() {
		return
	}
	in.flushMu.Lock()
	defer in.flushMu.Unlock()
	in.flushedAt.Store(time.Now().UnixNano())
	var b canonical.Batch
	in.pending.all(&b)
	if err := in.commitIdentity(ctx, &b); err != nil {
		rows, bytes := in.pending.size()
		in.log.Warn("identity changes of failed writes stay pending", "rows", rows, "bytes", bytes, "err", err)
	}
}

// commitIdentity commits a batch of contact and alias rows, halving it while
// the journal finds it too large, and settles each part made durable.
func (in *Ingestor) commitIdentity(ctx context.Context, b *canonical.Batch) error {
	err := in.commit(ctx, b)
	if err == nil {
		in.pending.settle(b)
		return nil
	}
	if !errors.Is(err, ErrTooLargeToStore) || b.Len() < 2 {
		return err
	}
	lo, hi := halveIdentity(b)
	return errors.Join(in.commitIdentity(ctx, lo), in.commitIdentity(ctx, hi))
}

// halveIdentity splits the contact and alias rows of b into two batches.
func halveIdentity(b *canonical.Batch) (*canonical.Batch, *canonical.Batch) {
	nc, na := len(b.Contacts)/2, len(b.Aliases)/2
	if nc+na == 0 {
		// One row of one kind: give it to the first half alone.
		nc, na = len(b.Contacts), len(b.Aliases)
		return &canonical.Batch{Contacts: b.Contacts[:nc]}, &canonical.Batch{Aliases: b.Aliases[:na]}
	}
	return &canonical.Batch{Contacts: b.Contacts[:nc], Aliases: b.Aliases[:na]},
		&canonical.Batch{Contacts: b.Contacts[nc:], Aliases: b.Aliases[na:]}
}

// flushLoop retries the held rows until Close: a person may never write
// again, and a delete's contact never does.
func (in *Ingestor) flushLoop(interval time.Duration) {
	defer close(in.flushDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-in.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), pendingFlushTimeout)
			in.flushPending(ctx)
			cancel()
		}
	}
}

// closePending stops the retries and makes a last attempt.
func (in *Ingestor) closePending() {
	close(in.stop)
	<-in.flushDone
	ctx, cancel := context.WithTimeout(context.Background(), pendingFlushTimeout)
	defer cancel()
	in.flushPending(ctx)
	if !in.pending.empty() {
		rows, bytes := in.pending.size()
		in.log.Error("identity changes of failed writes lost at shutdown", "rows", rows, "bytes", bytes)
	}
}

// logger is slog's default unless the options name one.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
