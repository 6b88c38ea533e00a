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
	"github.com/hogsend/hogsend-proxy/translate/native"
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
	var out CaptureResult
	limits := opts.limits(req.Budget)
	text, err := posthog.DecodeRequest(posthog.RequestInput{
		Path: req.Path, Query: req.Query, ContentType: req.ContentType,
		ContentEncoding: req.ContentEncoding, Body: req.Body,
	}, limits)
	if err != nil {
		return out, err
	}
	// An unknown token is refused before the events are built, where the
	// payload settles it.
	if len(opts.Tokens) > 0 {
		if tok, ok := posthog.PeekToken(text, limits); ok && !opts.Tokens[tok] && !opts.Trust.isSecret(tok) {
			return out, ErrUnknownToken
		}
	}
	p, err := posthog.ParsePayloadInto(in.rawEvents(), text, req.Path, limits)
	if err != nil {
		return out, err
	}
	defer in.recycleRawEvents(p.Events)
	now := in.now()
	trust := opts.Trust.of(p.Token, now)
	if len(opts.Tokens) > 0 && !opts.Tokens[p.Token] && !trust.secret {
		return out, ErrUnknownToken
	}
	out.Dropped = p.Dropped + p.Oversize
	if p.Oversize > 0 {
		out.Warnings = append(out.Warnings, "event_too_large")
	}
	if len(p.Events) == 0 {
		return out, nil
	}
	sentAt, _ := posthog.ResolveSentAt(p.SentAt, req.Query)

	// opOf[i] is the index of event i's own op (-1 when none) and personOf[i]
	// the op whose result is its contact. An event that changes nothing about
	// its person shares the resolve of the request's earlier op for the same
	// distinct_id and only claims its uuid: SDK batches are mostly one
	// person's events, and a claim costs a fraction of a resolve.
	opOf := make([]int, len(p.Events))
	personOf := make([]int, len(p.Events))
	ops := make([]identity.ResolveOp, 0, len(p.Events))
	// leader is the first plain op of each person (distinct id, and whether
	// it is personless) that later events of that person share.
	type person struct {
		distinct   string
		personless bool
	}
	leader := make(map[person]int, 4)
	for i := range p.Events {
		opOf[i], personOf[i] = -1, -1
		op, ok := in.personOp(&p.Events[i], now.UnixMilli(), &trust, &out.Warnings)
		if !ok {
			continue
		}
		plain := op.MergeFrom == "" && !op.Identify && len(op.Keys) == 0 &&
			len(op.Set) == 0 && len(op.SetOnce) == 0 && len(op.Unset) == 0
		group := person{op.Distinct, op.NoCreate}
		if l, seen := leader[group]; plain && seen {
			personOf[i] = l
			if op.IdempotencyKey != "" {
				opOf[i] = len(ops)
				ops = append(ops, identity.ResolveOp{ClaimOnly: true, IdempotencyKey: op.IdempotencyKey,
					IdempotencyWindow: op.IdempotencyWindow, Now: op.Now})
			}
			continue
		}
		opOf[i], personOf[i] = len(ops), len(ops)
		ops = append(ops, op)
		if plain {
			leader[group] = opOf[i]
		} else {
			// An identify, alias or property change may move or merge contacts:
			// later events resolve again.
			clear(leader)
		}
	}
	// A request with several claims makes them under one ticket, confirmed
	// with one write once the events are durable instead of one per event.
	ticket := ""
	if claims := countClaims(ops); claims >= 2 {
		ticket = identity.NewClaimTicket(now.UnixMilli())
		for i := range ops {
			if ops[i].IdempotencyKey != "" {
				ops[i].ClaimTicket = ticket
			}
		}
	}
	if err := in.admit(ctx); err != nil {
		return out, err
	}
	results := make([]identity.ResolveResult, len(ops))
	if len(ops) > 0 {
		if err := in.resolver.ResolveAll(ops, results); err != nil {
			return out, storeDown("resolve capture", err)
		}
		for i := range results {
			if results[i].Err != nil {
				return out, storeDown("resolve capture", results[i].Err)
			}
		}
	}

	b := canonical.Batch{Events: make([]canonical.Event, 0, len(p.Events))}
	received := now.UnixMilli()
	claimed := make([]string, 0, len(p.Events))
	// added are the resolves whose rows b holds: kept if b fails.
	var added []*identity.ResolveResult
	pending := false
	for i := range p.Events {
		ev := &p.Events[i]
		e := canonical.Event{
			ID: ev.UUID, Name: ev.Name, UserID: ev.DistinctID, DistinctID: ev.DistinctID,
			Properties: eventProperties(ev), Groups: eventGroups(ev), Source: "posthog",
			Lib: ev.Facts.Lib.String(), IP: req.IP, SecretToken: trust.secret,
			OccurredAt: posthog.EventTime(ev, sentAt, now).UnixMilli(), ReceivedAt: received,
			Historical: p.HistoricalMigration,
		}
		if k := personOf[i]; k >= 0 {
			op, res := &ops[k], &results[k]
			if res.Found {
				e.UserID, e.ContactID = res.Contact.Key(), res.Contact.ID
			}
			if k == opOf[i] {
				switch {
				case res.MergeRefused:
					out.Warnings = append(out.Warnings, warnMergeRefused)
				case res.Unproven:
					out.Warnings = append(out.Warnings, warnNeedsProof)
				}
				// A personless event is linked to a known contact but does not change it.
				if res.Found && !op.NoCreate && in.rows.needed(res, len(op.Set)+len(op.SetOnce)+len(op.Unset) > 0) {
					addResolved(&b, res)
					added = append(added, res)
				}
			}
		}
		if k := opOf[i]; k >= 0 {
			op, res := &ops[k], &results[k]
			if res.ClaimPending {
				pending = true
				continue
			}
			if res.Duplicate {
				out.Duplicates++
				continue
			}
			if op.IdempotencyKey != "" {
				claimed = append(claimed, op.IdempotencyKey)
			}
		}
		b.Events = append(b.Events, e)
		out.Stored++
	}
	if pending {
		// Part of the batch is held by an attempt still in flight: store
		// nothing of it now and let the SDK resend the whole batch.
		b.Events = b.Events[:0]
	}
	b.Contacts = newestContacts(b.Contacts)
	carried := in.carryCapture(&b, results)
	commitErr := in.commit(ctx, &b)
	if commitErr != nil {
		in.keepFailed(ctx, commitErr, added...)
	} else if carried {
		in.pending.settle(&b)
	}
	if commitErr != nil || pending {
		if len(claimed) > 0 {
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = in.store.ReleaseIdempotency(rctx, claimed)
			cancel()
		}
		if commitErr == nil {
			commitErr = ErrClaimPending
		}
		return CaptureResult{}, commitErr
	}
	if ticket != "" && len(claimed) > 0 {
		in.claims.confirm(nil, ticket)
	} else {
		in.claims.confirm(claimed, "")
	}
	return out, nil
}

// carryCapture adds the held identity rows of every person the request's
// resolves found.
func (in *Ingestor) carryCapture(b *canonical.Batch, results []identity.ResolveResult) bool {
	if in.pending.empty() {
		return false
	}
	found := make([]*identity.ResolveResult, 0, len(results))
	for i := range results {
		if results[i].Found {
			found = append(found, &results[i])
		}
	}
	return in.carryPending(b, found...)
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

// uuidKey is the idempotency key of a PostHog event: its client uuid.
func uuidKey(id uuid.UUID) string {
	// One allocation: "ph:" and the canonical 8-4-4-4-12 form.
	const hexDigits = "0123456789abcdef"
	var b [3 + 36]byte
	copy(b[:], "ph:")
	j := 3
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hexDigits[c>>4], hexDigits[c&0xf]
		j += 2
	}
	return string(b[:])
}

// personOp builds the identity op of one event under PostHog's identity
// rules, within what the request's credential proves
// (docs/identity-trust.md): every distinct_id is an alias of a
// contact; $identify and $create_alias merge (refused when the other person
// is identified, except for $merge_dangerously, which needs proof; never
// with an illegal id); $set, $set_once and $unset change the contact;
// $set.email is an email key with full trust, else only fills an empty
// email; with $process_person_profile false the event changes and creates
// no contact. ok is false when the event has no op; warnings are appended.
func (in *Ingestor) personOp(ev *posthog.RawEvent, now int64, trust *requestTrust, warns *[]string) (identity.ResolveOp, bool) {
	f := &ev.Facts
	op := identity.ResolveOp{Distinct: ev.DistinctID, Source: "posthog", Now: now}
	if !ev.UUIDGenerated {
		op.IdempotencyKey, op.IdempotencyWindow = uuidKey(ev.UUID), in.window
	}
	// Personless events (and placeholder ids such as "anonymous", which would
	// gather strangers into one contact) are deduplicated and linked to a
	// known contact, but never create or change one.
	if f.ProcessPerson.Type == gjson.False || IllegalDistinctID(ev.DistinctID) {
		op.NoCreate = true
		return op, true
	}
	op.NewID = newContactID()
	op.Trust = trust.level
	if trust.level != identity.TrustFull {
		user, warn := trust.provenUser(ev)
		op.ProvenUser = user
		addWarning(warns, warn)
	}
	addWarning(warns, mergeOp(&op, ev))
	if op.MergeDangerously && op.Trust != identity.TrustFull && op.ProvenUser == "" {
		op.MergeFrom, op.MergeDangerously = "", false
		addWarning(warns, warnDangerouslyNeeds)
	}
	if ev.Name == "$groupidentify" || ev.Name == "$exception" || ev.Name == "$$heatmap" {
		return op, true // PostHog applies no person property updates for these
	}
	set := mergedObject(ev.Set, f.Set)
	setOnce := mergedObject(ev.SetOnce, f.SetOnce)
	op.Set, op.SetOnce = set, setOnce
	op.Unset = unsetKeys(f.Unset)
	if email := setEmail(set); email != "" {
		if op.Trust == identity.TrustFull {
			op.Keys = append(op.Keys, identity.Key{Kind: canonical.KindEmail, Value: email})
		} else {
			op.EmailClaim = email
		}
	}
	return op, true
}

// mergeOp sets the merge of $identify, $create_alias and
// $merge_dangerously on op, or returns the warning of an illegal id.
func mergeOp(op *identity.ResolveOp, ev *posthog.RawEvent) string {
	f := &ev.Facts
	var other string
	switch ev.Name {
	case "$identify":
		op.Identify = true
		if anon := f.AnonDistinctID; anon.Exists() && anon.Type != gjson.Null {
			other = anon.String()
		}
	case "$create_alias", "$merge_dangerously":
		op.Identify = ev.Name == "$create_alias"
		other = f.Alias.String()
	default:
		return ""
	}
	if other == "" || other == ev.DistinctID {
		return ""
	}
	if IllegalDistinctID(other) {
		return warnIllegalDistinctID
	}
	op.MergeFrom, op.MergeDangerously = other, ev.Name == "$merge_dangerously"
	return ""
}

// setEmail is $set.email, normalised, when it is a valid email.
func setEmail(set []identity.Prop) string {
	for _, p := range set {
		if p.Name == "email" && p.Value != nil {
			if e := gjson.ParseBytes(p.Value); e.Type == gjson.String && native.ValidEmail(strings.TrimSpace(e.Str)) {
				return identity.NormalizeEmail(e.Str)
			}
		}
	}
	return ""
}

func addWarning(warns *[]string, w string) {
	if w != "" {
		*warns = append(*warns, w)
	}
}

// mergedObject lays the top-level object over the one in properties (the
// top level wins, spec §4.2) and returns its members as props.
func mergedObject(top, inProps gjson.Result) []identity.Prop {
	var out []identity.Prop
	index := map[string]int{}
	add := func(obj gjson.Result) {
		if !obj.IsObject() {
			return
		}
		obj.ForEach(func(k, v gjson.Result) bool {
			p := identity.Prop{Name: k.String()}
			if v.Type != gjson.Null {
				p.Value = []byte(v.Raw)
			}
			if i, ok := index[p.Name]; ok {
				out[i] = p
			} else {
				index[p.Name] = len(out)
				out = append(out, p)
			}
			return true
		})
	}
	add(inProps)
	add(top)
	return out
}

// unsetKeys reads $unset: an array of keys, or an object whose keys are used.
func unsetKeys(v gjson.Result) []string {
	var out []string
	switch {
	case v.IsArray():
		for _, k := range v.Array() {
			if k.Type == gjson.String && k.Str != "" {
				out = append(out, k.Str)
			}
		}
	case v.IsObject():
		v.ForEach(func(k, _ gjson.Result) bool {
			out = append(out, k.String())
			return true
		})
	}
	return out
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

// IllegalDistinctID reports ids that never merge (spec §4.4): blank, or one of
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
