package ingest

import (
	"context"
	"errors"
	"strings"
	"time"
	"unsafe"

	"github.com/google/uuid"
	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/jsontext"
	"github.com/hogsend/hogsend-proxy/translate/posthog"
)

// CaptureRequest is one PostHog capture request, as the HTTP layer received it.
type CaptureRequest struct {
	Path            string
	Query           []byte
	ContentType     string
	ContentEncoding string
	Body            []byte
	IP              string // client address (X-Forwarded-For only from trusted proxies)
	// Budget, when set, is charged for the decoded payload (posthog.Budget).
	Budget posthog.Budget
}

// CaptureResult is what a capture request stored.
type CaptureResult struct {
	Stored     int // events made durable
	Duplicates int // events whose uuid was already stored within the window
	Dropped    int // $performance_event and other filtered events
	Warnings   []string
}

// ErrUnknownToken refuses a project token not in HOGSEND_POSTHOG_TOKENS (401).
var ErrUnknownToken = errors.New("project api key not allowed")

// CaptureOptions configures PostHog capture.
type CaptureOptions struct {
	// Tokens, when not empty, are the only project tokens accepted.
	Tokens map[string]bool
	// The bounds of posthog.Limits (zero: its defaults), from the
	// HOGSEND_MAX_DECODED_BYTES, _DECODE_RATIO, _EVENTS_PER_REQUEST,
	// _EVENT_BYTES, _PROPERTIES and _PROPERTY_BYTES settings.
	MaxDecoded, MaxDecodeRatio, MaxEvents, MaxEventBytes, MaxProperties, MaxPropertyBytes int
	// Trust says what the capture credentials prove.
	Trust CaptureTrust
}

// limits are the options' bounds with the request's budget.
func (o CaptureOptions) limits(budget posthog.Budget) posthog.Limits {
	return posthog.Limits{MaxDecoded: o.MaxDecoded, MaxDecodeRatio: o.MaxDecodeRatio,
		MaxEvents: o.MaxEvents, MaxEventBytes: o.MaxEventBytes,
		MaxProperties: o.MaxProperties, MaxPropertyBytes: o.MaxPropertyBytes, Budget: budget}
}

// Capture decodes a PostHog capture request, applies PostHog's identity rules
// through the identity store (one round trip for the whole request, in event
// order) and makes the events durable before returning. Events are
// deduplicated on the client's uuid within the idempotency window.
func (in *Ingestor) Capture(ctx context.Context, req CaptureRequest, opts CaptureOptions) (CaptureResult, error) {
	c, err := in.readCapture(&req, opts)
	defer in.recycleRawEvents(c.payload.Events)
	if err != nil || len(c.payload.Events) == 0 {
		return c.out, err
	}
	in.planPersonOps(&c)
	c.claimUnderOneTicket()
	if err := in.resolveCapture(ctx, &c); err != nil {
		return c.out, err
	}
	w := in.captureWrite(&c)
	if err := in.commitWrite(ctx, &w); err != nil {
		return CaptureResult{}, err
	}
	return c.out, nil
}

// captureBatch is one capture request between its stages: the events read
// from it, the identity ops they need, and what it will answer.
type captureBatch struct {
	req     *CaptureRequest
	payload posthog.Payload
	trust   requestTrust
	now     time.Time
	sentAt  time.Time
	// plan[i] ties event i to ops; results[k] is the outcome of ops[k].
	plan    []plannedEvent
	ops     []identity.ResolveOp
	results []identity.ResolveResult
	// ticket groups the request's claims (claimUnderOneTicket).
	ticket string
	out    CaptureResult
}

// plannedEvent ties one event to the request's ops: own is the op the event
// made (-1 when none), person the op whose result is its contact (-1 when
// none). An event that shares an earlier event's resolve owns only the
// claim of its uuid.
type plannedEvent struct{ own, person int }

// personKey groups the events of one person that may share one resolve.
type personKey struct {
	distinct   string
	personless bool
}

// readCapture is the decode stage: the payload's events, its token checked
// against the allow-list, and what its credential proves.
func (in *Ingestor) readCapture(req *CaptureRequest, opts CaptureOptions) (captureBatch, error) {
	c := captureBatch{req: req}
	limits := opts.limits(req.Budget)
	text, err := posthog.DecodeRequest(posthog.RequestInput{
		Path: req.Path, Query: req.Query, ContentType: req.ContentType,
		ContentEncoding: req.ContentEncoding, Body: req.Body,
	}, limits)
	if err != nil {
		return c, err
	}
	// An unknown token is refused before the events are built, where the
	// payload settles it.
	if len(opts.Tokens) > 0 {
		if tok, ok := posthog.PeekToken(text, limits); ok && !opts.Tokens[tok] && !opts.Trust.isSecret(tok) {
			return c, ErrUnknownToken
		}
	}
	p, err := posthog.ParsePayloadInto(in.rawEvents(), text, req.Path, limits)
	if err != nil {
		return c, err
	}
	c.payload, c.now = p, in.now()
	c.trust = opts.Trust.of(p.Token, c.now)
	if len(opts.Tokens) > 0 && !opts.Tokens[p.Token] && !c.trust.secret {
		return c, ErrUnknownToken
	}
	c.out.Dropped = p.Dropped + p.Oversize
	if p.Oversize > 0 {
		c.out.Warnings = append(c.out.Warnings, "event_too_large")
	}
	c.sentAt, _ = posthog.ResolveSentAt(p.SentAt, req.Query)
	return c, nil
}

// planPersonOps is the plan stage: each event's identity op (personOp). An
// event that changes nothing about its person shares the resolve of the
// request's earlier op for the same distinct_id and only claims its uuid:
// SDK batches are mostly one person's events, and a claim costs a fraction
// of a resolve.
func (in *Ingestor) planPersonOps(c *captureBatch) {
	events := c.payload.Events
	c.plan = make([]plannedEvent, len(events))
	c.ops = make([]identity.ResolveOp, 0, len(events))
	// leader is the first plain op of each person that later events share.
	leader := make(map[personKey]int, 4)
	keys := claimKeys{buf: make([]byte, 0, len(events)*claimKeyLen)}
	now := c.now.UnixMilli()
	for i := range events {
		c.plan[i] = plannedEvent{own: -1, person: -1}
		if op, ok := in.personOp(&events[i], now, &c.trust, &keys, &c.out.Warnings); ok {
			c.plan[i] = c.addOp(op, leader)
		}
	}
}

// addOp adds one event's op to the plan, or only its uuid claim when an
// earlier plain op of the same person resolves it.
func (c *captureBatch) addOp(op identity.ResolveOp, leader map[personKey]int) plannedEvent {
	plain := op.MergeFrom == "" && !op.Identify && len(op.Keys) == 0 &&
		len(op.Set) == 0 && len(op.SetOnce) == 0 && len(op.Unset) == 0
	group := personKey{op.Distinct, op.NoCreate}
	if l, seen := leader[group]; plain && seen {
		pe := plannedEvent{own: -1, person: l}
		if op.IdempotencyKey != "" {
			pe.own = len(c.ops)
			c.ops = append(c.ops, identity.ResolveOp{ClaimOnly: true, IdempotencyKey: op.IdempotencyKey,
				IdempotencyWindow: op.IdempotencyWindow, Now: op.Now})
		}
		return pe
	}
	k := len(c.ops)
	c.ops = append(c.ops, op)
	if plain {
		leader[group] = k
	} else {
		// An identify, alias or property change may move or merge contacts:
		// later events resolve again.
		clear(leader)
	}
	return plannedEvent{own: k, person: k}
}

// claimUnderOneTicket is the claim stage: a request with several uuid
// claims makes them under one ticket, confirmed with one write once the
// events are durable instead of one per event.
func (c *captureBatch) claimUnderOneTicket() {
	if countClaims(c.ops) < 2 {
		return
	}
	c.ticket = identity.NewClaimTicket(c.now.UnixMilli())
	for i := range c.ops {
		if c.ops[i].IdempotencyKey != "" {
			c.ops[i].ClaimTicket = c.ticket
		}
	}
}

// resolveCapture is the resolve stage: every op of the request in one
// round trip, in event order.
func (in *Ingestor) resolveCapture(ctx context.Context, c *captureBatch) error {
	if err := in.admit(ctx); err != nil {
		return err
	}
	c.results = make([]identity.ResolveResult, len(c.ops))
	if len(c.ops) == 0 {
		return nil
	}
	if err := in.resolver.ResolveAll(c.ops, c.results); err != nil {
		return storeDown("resolve capture", err)
	}
	for i := range c.results {
		if err := c.results[i].Err; err != nil {
			return storeDown("resolve capture", err)
		}
	}
	return nil
}

// captureWrite is the build stage: the events to store, the contact rows
// their resolves changed, and the uuids claimed for them.
func (in *Ingestor) captureWrite(c *captureBatch) write {
	n := len(c.payload.Events)
	w := write{ticket: c.ticket, claimed: make([]string, 0, n), found: foundResults(c.results)}
	w.batch.Events = make([]canonical.Event, 0, n)
	w.reserveRows()
	var bodies callBodies
	for i, pe := range c.plan {
		e := c.event(i)
		if pe.person >= 0 {
			in.attachPerson(c, &w, &e, pe)
		}
		if pe.own >= 0 && !c.keepsEvent(&w, pe.own) {
			continue
		}
		w.batch.Events = append(w.batch.Events, e)
		c.out.Stored++
		if in.engineCalls && pe.person >= 0 && c.results[pe.person].Found {
			if call, ok := bodies.captureCall(&e, pe.person, &c.results[pe.person].Contact); ok {
				w.batch.Calls = append(w.batch.Calls, call)
			}
		}
	}
	w.batch.Contacts = newestContacts(w.batch.Contacts)
	return w
}

// event is event i as stored, before its contact is known.
func (c *captureBatch) event(i int) canonical.Event {
	ev := &c.payload.Events[i]
	return canonical.Event{
		ID: ev.UUID, Name: ev.Name, UserID: ev.DistinctID, DistinctID: ev.DistinctID,
		Properties: eventProperties(ev), Groups: eventGroups(ev), Source: "posthog",
		Lib: ev.Facts.Lib.String(), IP: c.req.IP, SecretToken: c.trust.secret, Token: c.projectToken(), TopLevel: topLevel(ev),
		OccurredAt: posthog.EventTime(ev, c.sentAt, c.now).UnixMilli(), ReceivedAt: c.now.UnixMilli(),
		Historical: c.payload.HistoricalMigration,
	}
}

// projectToken is the request's PostHog project token, for the mirror; a
// secret capture token is the proxy's, never PostHog's, and stays out.
func (c *captureBatch) projectToken() string {
	if c.trust.secret {
		return ""
	}
	return c.payload.Token
}

// topLevel keeps an event's top-level $set and $set_once for the mirror;
// nil when it has neither (most events).
func topLevel(ev *posthog.RawEvent) []byte {
	if !ev.Set.IsObject() && !ev.SetOnce.IsObject() {
		return nil
	}
	b := []byte{'{'}
	if ev.Set.IsObject() {
		b = append(append(b, `"$set":`...), ev.Set.Raw...)
	}
	if ev.SetOnce.IsObject() {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(append(b, `"$set_once":`...), ev.SetOnce.Raw...)
	}
	return append(b, '}')
}

// eventProperties keeps the properties as sent, $set and friends included,
// as PostHog stores them.
func eventProperties(ev *posthog.RawEvent) []byte {
	if !ev.Properties.IsObject() {
		return emptyObject()
	}
	if userTokenOf(ev).Exists() {
		return withoutMember(ev.Properties, UserTokenProperty)
	}
	// A view, not a copy: the request body outlives the commit, and the
	// spool append copies the event.
	raw := ev.Properties.Raw
	return unsafe.Slice(unsafe.StringData(raw), len(raw))
}

// eventGroups are the event's $groups ({type: key}); a $groupidentify is
// stored as the group it describes.
func eventGroups(ev *posthog.RawEvent) []byte {
	f := &ev.Facts
	if ev.Name == "$groupidentify" {
		t, k := f.GroupType, f.GroupKey
		if t.Type == gjson.String && t.Str != "" && k.Exists() {
			b := append([]byte{'{'}, jsontext.AppendString(nil, t.Str)...)
			b = append(b, ':')
			b = jsontext.AppendString(b, k.String())
			return append(b, '}')
		}
	}
	if g := f.Groups; g.IsObject() {
		return []byte(g.Raw)
	}
	return emptyObject()
}

// emptyObject is "{}" without an allocation: a view of a constant, which
// is read-only memory (a write would fault, not corrupt).
func emptyObject() []byte { return unsafe.Slice(unsafe.StringData("{}"), 2) }

// attachPerson links e to its contact. The event whose op resolved the
// person also reports the op's warnings and puts its contact rows in w.
func (in *Ingestor) attachPerson(c *captureBatch, w *write, e *canonical.Event, pe plannedEvent) {
	op, res := &c.ops[pe.person], &c.results[pe.person]
	if res.Found {
		e.UserID, e.ContactID = res.Contact.Key(), res.Contact.ID
	}
	if pe.person != pe.own {
		return
	}
	switch {
	case res.MergeRefused:
		c.out.Warnings = append(c.out.Warnings, warnMergeRefused)
	case res.Unproven:
		c.out.Warnings = append(c.out.Warnings, warnNeedsProof)
	}
	// A personless event is linked to a known contact but does not change it.
	if res.Found && !op.NoCreate && in.rows.needed(res, len(op.Set)+len(op.SetOnce)+len(op.Unset) > 0) {
		w.addRows(res)
	}
}

// keepsEvent reports whether the event whose own op is k is stored: not
// when its uuid is a stored duplicate, nor when another attempt holds it
// (then the whole batch waits for the client's retry).
func (c *captureBatch) keepsEvent(w *write, k int) bool {
	op, res := &c.ops[k], &c.results[k]
	switch {
	case res.ClaimPending:
		w.claimPending = true
		return false
	case res.Duplicate:
		c.out.Duplicates++
		return false
	}
	if op.IdempotencyKey != "" {
		w.claimed = append(w.claimed, op.IdempotencyKey)
	}
	return true
}

// foundResults are the resolves that found a contact: the held rows of
// their people travel with the request's batch.
func foundResults(results []identity.ResolveResult) []*identity.ResolveResult {
	found := make([]*identity.ResolveResult, 0, len(results))
	for i := range results {
		if results[i].Found {
			found = append(found, &results[i])
		}
	}
	return found
}

// newestContacts keeps one row per contact, its newest version: a batch of
// one person's events changing a property each would otherwise hold the
// whole contact once per event, and only the newest version counts.
func newestContacts(rows []canonical.Contact) []canonical.Contact {
	if len(rows) < 2 {
		return rows
	}
	at := make(map[uuid.UUID]int, len(rows))
	out := rows[:0]
	for _, r := range rows {
		i, seen := at[r.ID]
		switch {
		case !seen:
			at[r.ID] = len(out)
			out = append(out, r)
		case r.Version > out[i].Version:
			out[i] = r
		}
	}
	clear(rows[len(out):])
	return out
}

// countClaims is the number of ops that claim an idempotency key.
func countClaims(ops []identity.ResolveOp) int {
	n := 0
	for i := range ops {
		if ops[i].IdempotencyKey != "" {
			n++
		}
	}
	return n
}

// IllegalDistinctID reports ids that never merge (docs/contracts/posthog-capture.md §4.4): blank, or one of
// PostHog's placeholder values, also when wrapped in quotes.
func IllegalDistinctID(id string) bool {
	s := strings.TrimSpace(id)
	if s == "" {
		return true
	}
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		s = s[1 : len(s)-1]
	}
	switch strings.ToLower(s) {
	case "anonymous", "guest", "distinctid", "distinct_id", "id", "not_authenticated", "email", "undefined", "true", "false":
		return true
	}
	switch s {
	case "[object Object]", "NaN", "None", "none", "null", "0", "undefined":
		return true
	}
	return false
}

// maxPooledEvents bounds the RawEvent slices kept for reuse (a RawEvent is
// over a kilobyte): an unusually large batch's slice is left to the GC.
const maxPooledEvents = 1024

// rawEvents returns an empty slice to parse a request's events into,
// reusing one an earlier request gave back: a batch of 50 events would
// otherwise allocate, zero and have the GC scan about 100 KB.
func (in *Ingestor) rawEvents() []posthog.RawEvent {
	if v, ok := in.rawEventPool.Get().(*[]posthog.RawEvent); ok {
		return (*v)[:0]
	}
	return nil
}

// recycleRawEvents gives events back once nothing refers to them. They are
// cleared first: their strings alias the request's body.
func (in *Ingestor) recycleRawEvents(events []posthog.RawEvent) {
	if cap(events) == 0 || cap(events) > maxPooledEvents {
		return
	}
	clear(events)
	in.rawEventPool.Put(&events)
}
