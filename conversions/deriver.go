package conversions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/conversions/rules"
	"github.com/hogsend/hogsend-proxy/internal/backoff"
	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// SpoolConsumer is the name of the deriver's cursor in the event spool.
const SpoolConsumer = "conversions"

// ContextStore is where the deriver records clicks and reads the contact
// context of a conversion (ClickHouse).
type ContextStore interface {
	InsertClicks(ctx context.Context, rows []Click) error
	LoadContactFacts(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]*ContactFacts, error)
	LoadRecentClicks(ctx context.Context, contacts []uuid.UUID, since, until int64) ([]Click, error)
}

// Consent is the consent setting of the config.
type ConsentConfig struct {
	// Property is read on the event, else on the contact; "" disables
	// the consent gate.
	Property string
	// Require forwards only conversions with consent granted; otherwise
	// only an explicit denial stops one.
	Require bool
}

// DeriverOptions wire a Deriver.
type DeriverOptions struct {
	Rules       []rules.Rule
	Dispatchers []*Dispatcher
	Consent     ConsentConfig
	Store       ContextStore
	// History, when set, gets a pending row for every conversion queued.
	History *History
	// StoredUpTo is the event spool position ClickHouse holds everything
	// before (the writer's committed cursor): contacts are read from there,
	// so the deriver never runs ahead of it.
	StoredUpTo func() spool.Position
	Logger     *slog.Logger
	Now        func() time.Time
}

// Deriver reads the event spool behind the ClickHouse writer, records the
// click ids of every event, and turns each fresh event that matches a rule
// into one conversion per destination of the rule, appended durably to that
// destination's queue before the spool cursor moves. Duplicates never reach
// the spool, and historical imports never match a rule.
type Deriver struct {
	opts  DeriverOptions
	dests map[string]*Dispatcher
	r     *spool.Reader
	log   *slog.Logger

	derived atomic.Uint64
	skipped atomic.Uint64
	clicks  atomic.Uint64
}

// NewDeriver returns a deriver reading with r (the SpoolConsumer reader).
func NewDeriver(r *spool.Reader, opts DeriverOptions) *Deriver {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	d := &Deriver{opts: opts, r: r, log: opts.Logger, dests: make(map[string]*Dispatcher)}
	for _, disp := range opts.Dispatchers {
		d.dests[disp.Name()] = disp
	}
	return d
}

// Derived counts conversions queued, Skipped those refused by consent or
// for lack of a contact, Clicks the click ids recorded.
func (d *Deriver) Derived() uint64 { return d.derived.Load() }
func (d *Deriver) Skipped() uint64 { return d.skipped.Load() }
func (d *Deriver) Clicks() uint64  { return d.clicks.Load() }

// Backlog is the event spool bytes not yet derived.
func (d *Deriver) Backlog() int64 { return d.r.Backlog() }

// candidate is an event matching a rule, copied out of the read buffer.
type candidate struct {
	ev   canonical.Event
	rule *rules.Rule
}

// commitEvery spaces the deriver's cursor writes (each one a file write
// and fsync). Committing late is safe: after a crash the deriver reads the
// uncommitted entries again, re-queueing their conversions under the same
// dedup ids (platforms count them once) and re-recording identical clicks
// (ReplacingMergeTree keeps one).
const commitEvery = time.Second

// Run derives until ctx ends.
func (d *Deriver) Run(ctx context.Context) error {
	buf := make([]spool.Entry, 0, 64)
	var batch canonical.Batch
	var done spool.Position // derived up to here, maybe not committed yet
	lastCommit := time.Now()
	defer func() {
		if done != (spool.Position{}) {
			if err := d.r.Commit(done); err != nil {
				d.log.Warn("commit conversions cursor at shutdown", "err", err)
			}
		}
	}()
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, commitEvery)
		entries, err := d.r.Next(rctx, cap(buf), buf[:0])
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("read event spool: %w", err)
			}
		}
		if time.Since(lastCommit) >= commitEvery && done != (spool.Position{}) && done != d.r.Committed() {
			if err := d.r.Commit(done); err != nil {
				return fmt.Errorf("commit conversions cursor: %w", err)
			}
			lastCommit = time.Now()
		}
		if len(entries) == 0 {
			continue
		}
		var clicks []Click
		var cands []candidate
		for _, e := range entries {
			if err := canonical.DecodeBatch(e.Data, &batch); err != nil {
				d.log.Error("skipping undecodable spool entry", "err", err, "segment", e.Pos.Segment, "offset", e.Pos.Offset)
				continue
			}
			for i := range batch.Events {
				ev := &batch.Events[i]
				if ev.ContactID == uuid.Nil || ev.Historical {
					continue
				}
				for _, c := range ExtractClicks(ev.Properties) {
					clicks = append(clicks, Click{ContactID: ev.ContactID, Kind: c.Kind, Value: c.Value, At: ev.OccurredAt, EventID: ev.ID})
				}
				for r := range d.opts.Rules {
					rule := &d.opts.Rules[r]
					if rule.Matches(ev) {
						cands = append(cands, candidate{ev: cloneEvent(ev), rule: rule})
					}
				}
			}
		}
		last := entries[len(entries)-1].Pos
		if err := d.derive(ctx, last, clicks, cands); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		done = last
	}
	return nil
}

// derive records clicks and queues the conversions of cands; it retries
// until done or ctx ends, so the cursor never passes an event whose
// conversions are not queued.
func (d *Deriver) derive(ctx context.Context, upTo spool.Position, clicks []Click, cands []candidate) error {
	if len(cands) > 0 {
		// Contacts and aliases of these events must be in ClickHouse.
		for d.opts.StoredUpTo().Compare(upTo) < 0 {
			if backoff.Sleep(ctx, 20*time.Millisecond) != nil {
				return ctx.Err()
			}
		}
	}
	wait := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := d.tryDerive(ctx, clicks, cands)
		if err == nil {
			return nil
		}
		if attempt == 0 || attempt%50 == 0 {
			d.log.Warn("deriving conversions failed; retrying", "err", err)
		}
		if backoff.Sleep(ctx, wait) != nil {
			return ctx.Err()
		}
		wait = min(2*wait, 10*time.Second)
	}
}

func (d *Deriver) tryDerive(ctx context.Context, clicks []Click, cands []candidate) error {
	if len(clicks) > 0 {
		if err := d.opts.Store.InsertClicks(ctx, clicks); err != nil {
			return fmt.Errorf("record clicks: %w", err)
		}
	}
	perDest := make(map[string][]Conversion)
	var skipped uint64
	if len(cands) > 0 {
		// Three queries per spool read, whatever the number of conversions.
		var ids []uuid.UUID
		seen := make(map[uuid.UUID]bool)
		since, until := cands[0].ev.OccurredAt, cands[0].ev.OccurredAt
		for i := range cands {
			ev := &cands[i].ev
			if !seen[ev.ContactID] {
				seen[ev.ContactID] = true
				ids = append(ids, ev.ContactID)
			}
			since = min(since, ev.OccurredAt-cands[i].rule.AttributionWindow.Milliseconds())
			until = max(until, ev.OccurredAt)
		}
		facts, err := d.opts.Store.LoadContactFacts(ctx, ids)
		if err != nil {
			return err
		}
		clickIDs := append([]uuid.UUID(nil), ids...)
		for _, f := range facts {
			clickIDs = append(clickIDs, f.Merged...)
		}
		stored, err := d.opts.Store.LoadRecentClicks(ctx, clickIDs, since, until)
		if err != nil {
			return err
		}
		for i := range cands {
			c := &cands[i]
			f := facts[c.ev.ContactID]
			if f == nil {
				f = &ContactFacts{ID: c.ev.ContactID}
			}
			if f.Deleted {
				skipped++
				continue
			}
			consent := consentOf(d.opts.Consent.Property, c.ev.Properties, f.Properties)
			if consent == ConsentDenied || d.opts.Consent.Require && consent != ConsentGranted {
				skipped++
				continue
			}
			conv := d.build(c, f, stored)
			conv.Consent = consent
			for _, dest := range c.rule.Destinations {
				if _, ok := d.dests[dest.Name]; !ok {
					continue
				}
				one := conv
				one.EventName = dest.EventName
				perDest[dest.Name] = append(perDest[dest.Name], one)
			}
		}
	}
	for name, convs := range perDest {
		if err := d.dests[name].Queue().Append(ctx, convs, 0); err != nil {
			return err
		}
	}
	if h := d.opts.History; h != nil {
		now := d.opts.Now().UnixMilli()
		for name, convs := range perDest {
			for i := range convs {
				h.Record(dispatchRow(&convs[i], name, StatusPending, now))
			}
		}
	}
	if len(clicks) > 0 {
		d.clicks.Add(uint64(len(clicks)))
	}
	d.skipped.Add(skipped)
	for _, convs := range perDest {
		d.derived.Add(uint64(len(convs)))
	}
	return nil
}

// build assembles the conversion of one candidate, without its destination.
// stored are recent clicks of the read's contacts, newest first.
func (d *Deriver) build(c *candidate, f *ContactFacts, stored []Click) Conversion {
	ev := &c.ev
	contact := ev.ContactID.String()
	conv := Conversion{
		DedupID:      DedupID(contact, c.rule.ID, ev.ID.String()),
		RuleID:       c.rule.ID,
		EventID:      ev.ID.String(),
		TriggerEvent: ev.Name,
		ContactID:    contact,
		OccurredAt:   time.UnixMilli(ev.OccurredAt).UTC(),
		User:         userOf(ev, f),
	}
	if v, cur, ok := c.rule.EventValue(ev); ok {
		conv.HasValue, conv.Value, conv.Currency = true, v, cur
	}
	conv.OrderID = firstString(ev.Properties, "order_id", "orderId", "transaction_id")
	conv.PageURL = firstString(ev.Properties, "$current_url", "url", "page_url")

	// Clicks on the event itself first, then the contact's (or a contact
	// merged into it) most recent click of each kind within the window.
	got := make(map[string]bool)
	for _, fc := range ExtractClicks(ev.Properties) {
		setClick(&conv.Clicks, fc.Kind, fc.Value)
		got[fc.Kind] = true
		if fc.Kind == "fbclid" || conv.Clicks.At.IsZero() {
			conv.Clicks.At = conv.OccurredAt
		}
	}
	since := ev.OccurredAt - c.rule.AttributionWindow.Milliseconds()
	for _, s := range stored { // newest first
		if got[s.Kind] || s.At < since || s.At > ev.OccurredAt || !(s.ContactID == ev.ContactID || slices.Contains(f.Merged, s.ContactID)) {
			continue
		}
		got[s.Kind] = true
		setClick(&conv.Clicks, s.Kind, s.Value)
		if s.Kind == "fbclid" || conv.Clicks.At.IsZero() {
			conv.Clicks.At = time.UnixMilli(s.At).UTC()
		}
	}
	return conv
}

func setClick(c *Clicks, kind, value string) {
	switch kind {
	case "fbclid":
		c.Fbclid = value
	case "fbc":
		c.Fbc = value
	case "fbp":
		c.Fbp = value
	case "gclid":
		c.Gclid = value
	case "gbraid":
		c.Gbraid = value
	case "wbraid":
		c.Wbraid = value
	case "ttclid":
		c.Ttclid = value
	case "ttp":
		c.Ttp = value
	case "li_fat_id":
		c.LiFatID = value
	case "rdt_cid":
		c.RdtCid = value
	case "rdt_uuid":
		c.RdtUUID = value
	case "ga_client_id":
		c.GAClientID = value
	}
}

// cloneEvent copies the byte fields, which alias the spool's read buffer.
func cloneEvent(ev *canonical.Event) canonical.Event {
	c := *ev
	c.Properties = append([]byte(nil), ev.Properties...)
	c.Groups = nil
	return c
}
