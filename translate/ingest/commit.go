package ingest

import (
	"context"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// claimReleaseTimeout bounds the release of a failed write's claims, which
// runs after the request's own context may have ended.
const claimReleaseTimeout = 5 * time.Second

// write is one request's records on their way to the journal, with what the
// commit path settles after them. Capture and native ingestion both build
// one and hand it to commitWrite.
type write struct {
	batch canonical.Batch
	// found are the resolves that found a contact: the held rows of their
	// people travel with the batch.
	found []*identity.ResolveResult
	// added are the resolves whose rows the batch holds: held when it fails.
	added []*identity.ResolveResult
	// claimed are the idempotency keys claimed for the batch's events, under
	// ticket when it is not empty.
	claimed []string
	ticket  string
	// claimPending: another attempt holds one of the request's keys; none of
	// its events is stored and the client is told to retry.
	claimPending bool
}

// reserveRows sizes the batch's contact and alias rows, and added, for the
// rows of every found resolve when there are several: a capture request adds
// them one resolve at a time, and growing them would allocate several times
// per request.
func (w *write) reserveRows() {
	if len(w.found) < 2 {
		return
	}
	contacts, aliases := 0, 0
	for _, res := range w.found {
		contacts += 1 + len(res.Losers)
		aliases += len(res.Aliases)
	}
	w.added = make([]*identity.ResolveResult, 0, len(w.found))
	w.batch.Contacts = make([]canonical.Contact, 0, contacts)
	if aliases > 0 {
		w.batch.Aliases = make([]canonical.Alias, 0, aliases)
	}
}

// addRows puts the contact and alias rows of res in the batch.
func (w *write) addRows(res *identity.ResolveResult) {
	addResolved(&w.batch, res)
	w.added = append(w.added, res)
}

// commitWrite is ingestion's one commit path (docs/architecture.md § 4):
// the batch goes to the journal with the held rows of its people. When that
// fails, the claims are released (nothing was stored under them) and the
// resolves' identity rows are held for a later write; when it succeeds, the
// rows it carried are settled and the claims confirmed.
func (in *Ingestor) commitWrite(ctx context.Context, w *write) error {
	if w.claimPending {
		// Part of the request is held by an attempt still in flight: store
		// none of its events now and let the client resend them all.
		w.batch.Events = w.batch.Events[:0]
		dropEventCalls(&w.batch)
	}
	carried := in.carryPending(&w.batch, w.found...)
	if err := in.commit(ctx, &w.batch); err != nil {
		in.keepFailed(ctx, err, w.added...)
		for _, res := range w.found {
			// The filter thought these rows written; the next event writes them.
			in.rows.forget(res.Contact.ID)
		}
		in.releaseClaims(w.claimed)
		return err
	}
	if carried {
		in.pending.settle(&w.batch)
	}
	if w.claimPending {
		in.releaseClaims(w.claimed)
		return ErrClaimPending
	}
	if w.ticket != "" && len(w.claimed) > 0 {
		in.claims.confirm(nil, w.ticket)
	} else {
		in.claims.confirm(w.claimed, "")
	}
	return nil
}

// releaseClaims lets a retry claim keys again. A release that fails leaves
// the claims pending until identity.PendingClaimWindow: the retry is told
// to retry until then.
func (in *Ingestor) releaseClaims(keys []string) {
	if len(keys) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), claimReleaseTimeout)
	defer cancel()
	if err := in.store.ReleaseIdempotency(ctx, keys); err != nil {
		in.log.Warn("idempotency claims of a failed write stay pending", "keys", len(keys), "err", err)
	}
}
