package posthog

import (
	"strconv"
	"strings"
	"unsafe"

	"github.com/google/uuid"
	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/translate/jsontext"
)

// maxDistinctIDLen is where capture cuts a distinct_id, in characters.
const maxDistinctIDLen = 200

// droppedEventName is removed from every payload (docs/contracts/posthog-capture.md §3.5).
const droppedEventName = "$performance_event"

// Payload is one capture request's content.
type Payload struct {
	// Token is the project token (docs/contracts/posthog-capture.md §3.2), trimmed and shape-checked.
	Token string
	// SentAt is the batch body's sent_at as sent ("" when absent). See
	// ResolveSentAt for the query fallback.
	SentAt string
	// HistoricalMigration is the batch body's historical_migration: true.
	HistoricalMigration bool
	// Events are the accepted events in request order.
	Events []RawEvent
	// Dropped counts the $performance_event events removed. A request whose
	// events were all dropped is a success with no Events.
	Dropped int
	// Oversize counts the events dropped for being over
	// Limits.MaxEventBytes; a request of nothing else is refused.
	Oversize int
}

// RawEvent is one event as received, with the fields capture validates
// already read. Everything else is read lazily from Raw / Properties: their
// text aliases the payload passed to ParsePayload.
type RawEvent struct {
	Raw        gjson.Result // the event object
	Properties gjson.Result // properties; Exists() is false when absent or null
	Set        gjson.Result // top-level $set, when present
	SetOnce    gjson.Result // top-level $set_once, when present

	Name          string    // "$identify" for a nameless event on /engage
	Engage        bool      // the name was given by the /engage rule
	DistinctID    string    // stringified, NUL → U+FFFD, ≤ 200 characters
	UUID          uuid.UUID // the client's uuid, or a new UUIDv7
	UUIDGenerated bool      // the client sent no uuid
	// Token is the event's own token: token, $token or api_key, else
	// properties.token; trimmed, "" when none. Payload.Token is the one used.
	Token        string
	Timestamp    string // raw timestamp text, "" when absent
	Offset       int64  // milliseconds before now, when HasOffset
	HasOffset    bool
	IgnoreSentAt bool // properties.$ignore_sent_at is true
	Cookieless   bool // properties.$cookieless_mode is true
	// Facts are the properties identity and storage act on, read in the
	// same pass over properties as the fields above.
	Facts PropFacts
}

// PropFacts are properties read while parsing; a repeated key's last
// value wins, as a JSON object lookup would.
type PropFacts struct {
	Lib, ProcessPerson, AnonDistinctID, Alias gjson.Result
	Set, SetOnce, Unset, Groups               gjson.Result
	GroupType, GroupKey                       gjson.Result
}

// field is where the property named k is kept, nil for any other
// property.
func (f *PropFacts) field(k string) *gjson.Result {
	switch k {
	case "$lib":
		return &f.Lib
	case "$process_person_profile":
		return &f.ProcessPerson
	case "$anon_distinct_id":
		return &f.AnonDistinctID
	case "alias":
		return &f.Alias
	case "$set":
		return &f.Set
	case "$set_once":
		return &f.SetOnce
	case "$unset":
		return &f.Unset
	case "$groups":
		return &f.Groups
	case "$group_type":
		return &f.GroupType
	case "$group_key":
		return &f.GroupKey
	}
	return nil
}

// Prop returns the property named key (a literal key, not a gjson path).
func (ev *RawEvent) Prop(key string) gjson.Result {
	var res gjson.Result
	ev.Properties.ForEach(func(k, v gjson.Result) bool {
		if k.Str == key {
			res = v
			return false
		}
		return true
	})
	return res
}

// ParsePayload reads the JSON text of a capture request (the output of
// DecodeRequest) sent to path. It accepts, in this order: an array
// of events; a batch object {api_key|token, batch, sent_at, historical_migration}
// (an object holding a "batch" key is taken as a batch even without a token);
// one event object; and, on paths starting with /engage, an object without an
// event name, which becomes $identify.
//
// It resolves the token, the distinct_id and the uuid of every event, and
// drops $performance_event (docs/contracts/posthog-capture.md §3.5). The
// strings and gjson results of the Payload alias jsonText, which must not be
// modified afterwards. Errors are *Error; see the Err* kinds.
//
// The default Limits apply: at most DefaultMaxEvents events (ErrTooManyEvents),
// events over DefaultMaxEventBytes dropped (ErrEventTooLarge when no other is
// left), at most DefaultMaxProperties members in properties, $set, $set_once
// and $unset (ErrTooManyProperties), none over DefaultMaxPropertyBytes
// (ErrPropertyTooLarge).
func ParsePayload(jsonText []byte, path string) (Payload, error) {
	return ParsePayloadInto(nil, jsonText, path, Limits{})
}

// ParsePayloadInto is ParsePayload under limits, reading the events into
// events[:0] while they fit (a caller's reused slice; a RawEvent is over a
// kilobyte), growing it when they do not. Payload.Events is that slice, or
// its grown copy.
func ParsePayloadInto(events []RawEvent, jsonText []byte, path string, limits Limits) (Payload, error) {
	limits = limits.withDefaults()
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	engage := strings.HasPrefix(path, "/engage")
	text := unsafe.String(unsafe.SliceData(jsonText), len(jsonText))
	switch jsontext.Validate(jsonText, jsontext.MaxDepth) {
	case jsontext.Invalid:
		return Payload{}, newError(ErrInvalidPayload, "parse json: invalid json")
	case jsontext.TooDeep:
		return Payload{}, newError(ErrTooDeep, "parse json: nested more than "+strconv.Itoa(jsontext.MaxDepth)+" levels deep")
	}
	start := skipSpace(text, 0)
	p := Payload{Events: events[:0]}
	var batchToken string
	var err error
	switch text[start] {
	case '[':
		elements(text, start, p.eventReader(text, start, engage, limits, &err))
	case '{':
		batchToken, err = p.readObject(text, start, engage, limits)
	default:
		err = newError(ErrInvalidPayload, "payload must be a json object or an array of events")
	}
	if err == nil {
		err = p.finish(batchToken, limits)
	}
	if err != nil {
		return Payload{}, err
	}
	return p, nil
}

// readObject reads a payload that is an object: a batch, or one event. It
// returns the batch's own token.
func (p *Payload) readObject(text string, start int, engage bool, limits Limits) (string, error) {
	b := batchReader{payload: *p, text: text, engage: engage, limits: limits}
	members(text, start, b.member)
	*p = b.payload
	if b.seen && !b.null {
		switch {
		case b.tokenErr != nil:
			return "", b.tokenErr
		case !b.array:
			return "", newError(ErrInvalidPayload, "batch must be an array of events")
		}
		return b.token, b.eventsErr
	}
	// One event object: its api_key/token are the event's own.
	p.SentAt, p.HistoricalMigration = "", false
	p.Events, p.Oversize = p.Events[:0], 0
	ev, end, err := parseEvent(text, start, engage, true, limits)
	if size := end - start; size > limits.MaxEventBytes {
		return "", newError(ErrEventTooLarge, "event too large: "+strconv.Itoa(size)+
			" bytes, over the limit of "+strconv.Itoa(limits.MaxEventBytes))
	}
	if err != nil {
		return "", err
	}
	p.Events = append(p.Events[:0], ev)
	return "", nil
}

// batchReader reads the members of a batch object into payload.
type batchReader struct {
	payload Payload
	text    string
	engage  bool
	limits  Limits

	seen, null, array   bool // a batch member; null; an array
	token               string
	tokenErr, eventsErr error
}

// member reads one member of the batch object.
func (b *batchReader) member(k string, at int) int {
	text := b.text
	switch k {
	case "batch":
		if b.seen {
			break
		}
		b.seen = true
		switch text[at] {
		case '[':
			b.array = true
			return elements(text, at, b.payload.eventReader(text, at, b.engage, b.limits, &b.eventsErr))
		case 'n':
			b.null = true
		}
	case "api_key", "token":
		if b.token != "" {
			break
		}
		v, end := valueAt(text, at)
		if v.Type == gjson.String {
			b.token = v.Str
		} else if v.Type != gjson.Null {
			b.tokenErr = newError(ErrInvalidToken, "invalid project api key: "+k+" must be a string")
		}
		return end
	case "sent_at":
		v, end := valueAt(text, at)
		if v.Type == gjson.String && b.payload.SentAt == "" {
			b.payload.SentAt = v.Str
		}
		return end
	case "historical_migration":
		v, end := valueAt(text, at)
		b.payload.HistoricalMigration = b.payload.HistoricalMigration || v.Type == gjson.True
		return end
	}
	return skipValue(text, at)
}

// finish checks that events remain, resolves the token, drops
// $performance_event and validates the rest.
func (p *Payload) finish(batchToken string, limits Limits) error {
	if len(p.Events) == 0 && p.Oversize > 0 {
		return newError(ErrEventTooLarge, "event too large: every event of the request is over "+
			strconv.Itoa(limits.MaxEventBytes)+" bytes")
	}
	if len(p.Events) == 0 {
		return newError(ErrEmptyBatch, "empty batch: the payload holds no events")
	}
	tok, err := resolveToken(batchToken, p.Events)
	if err != nil {
		return err
	}
	p.Token = tok
	kept := p.Events[:0]
	for i := range p.Events {
		ev := &p.Events[i]
		if ev.Name == droppedEventName {
			p.Dropped++
			continue
		}
		if err := ev.validate(); err != nil {
			return err
		}
		kept = append(kept, *ev)
	}
	clear(p.Events[len(kept):])
	p.Events = kept
	return nil
}

// growEvents makes room for ev and the rest of an array of events, the
// first of which started at text[first], ev ending at text[end]: sized from
// the events read so far rather than by doubling, so that a batch is mostly
// one allocation of about the right size (a RawEvent is over a kilobyte),
// and never past limits.MaxEvents. The new slice is charged to
// limits.Budget before it is allocated.
func growEvents(events []RawEvent, text string, first, end int, limits Limits) ([]RawEvent, error) {
	perEvent := max((end-first)/(len(events)+1), 1)
	size := max(min(len(events)+1+(len(text)-end)/perEvent, limits.MaxEvents), len(events)+1)
	if limits.Budget != nil {
		if err := limits.Budget.Reserve(size * int(unsafe.Sizeof(RawEvent{}))); err != nil {
			return nil, wrapError(ErrOverloaded, "parse events: no room for them", err)
		}
	}
	grown := make([]RawEvent, len(events), size)
	copy(grown, events)
	return grown, nil
}

// eventReader returns the element callback that parses each event of the
// array opening at text[array] into p.Events, dropping those over
// limits.MaxEventBytes. The first error is kept in *err, and the rest of
// the array skipped in one step.
func (p *Payload) eventReader(text string, array int, engage bool, limits Limits, err *error) func(at int) int {
	first, count := -1, 0
	stop := func(e error) int {
		*err = e
		return containerEnd(text, array) - 1 // the closing ']'
	}
	return func(at int) int {
		if first < 0 {
			first = at
		}
		if count++; count > limits.MaxEvents {
			return stop(newError(ErrTooManyEvents, "too many events: more than "+
				strconv.Itoa(limits.MaxEvents)+" in one request"))
		}
		if text[at] != '{' {
			return stop(newError(ErrInvalidPayload, "all events must be json objects"))
		}
		ev, end, e := parseEvent(text, at, engage, false, limits)
		if end-at > limits.MaxEventBytes {
			// As PostHog drops events over its 1 MB message limit.
			p.Oversize++
			return end
		}
		if e != nil {
			return stop(e)
		}
		if len(p.Events) == cap(p.Events) {
			grown, err := growEvents(p.Events, text, first, end, limits)
			if err != nil {
				return stop(err)
			}
			p.Events = grown
		}
		p.Events = append(p.Events, ev)
		return end
	}
}

// parseEvent reads the fields of one event object; the distinct_id, uuid and
// $cookieless_mode checks run later in validate.
// It walks the event once: the members it needs are read as values, the
// properties object is walked member by member, everything else skipped.
// It returns the index just past the event object at text[at].
func parseEvent(text string, at int, engage, single bool, limits Limits) (RawEvent, int, error) {
	r := eventReader{text: text, limits: limits}
	end := members(text, at, r.member)
	r.ev.Raw = gjson.Result{Type: gjson.JSON, Raw: text[at:end], Index: at}
	if r.capErr == nil {
		r.capErr = checkPersonObjects(text, &r.ev, limits)
	}
	if r.capErr != nil {
		return r.ev, end, r.capErr
	}
	err := r.nameOf(engage, single)
	if err == nil {
		err = r.propertiesOf()
	}
	if err == nil {
		err = r.identityOf()
	}
	if err == nil {
		err = r.uuidOf()
	}
	return r.ev, end, err
}

// eventReader is one event being read: the members it picks out as it
// walks the event once, then checked and moved into ev stage by stage.
type eventReader struct {
	text   string
	limits Limits
	ev     RawEvent
	capErr error // the first property cap passed

	name, distinctID, altDistinctID, id, offset, props gjson.Result
	propDistinctID, propToken, cookieless              gjson.Result
	token                                              string
}

// first reads the value at i into dst unless dst already holds one (the
// first of a repeated key wins).
func (r *eventReader) first(dst *gjson.Result, i int) int {
	if dst.Exists() {
		return skipValue(r.text, i)
	}
	v, end := valueAt(r.text, i)
	*dst = v
	return end
}

// member reads one top-level member of the event.
func (r *eventReader) member(k string, i int) int {
	switch k {
	case "event":
		return r.first(&r.name, i)
	case "distinct_id":
		return r.first(&r.distinctID, i)
	case "$distinct_id":
		return r.first(&r.altDistinctID, i)
	case "uuid":
		return r.first(&r.id, i)
	case "offset":
		return r.first(&r.offset, i)
	case "$set":
		return r.first(&r.ev.Set, i)
	case "$set_once":
		return r.first(&r.ev.SetOnce, i)
	case "properties":
		return r.properties(i)
	case "timestamp":
		return r.timestamp(i)
	case "token", "$token", "api_key":
		v, end := valueAt(r.text, i)
		if r.token == "" && v.Type == gjson.String {
			r.token = strings.TrimSpace(v.Str)
		}
		return end
	}
	return skipValue(r.text, i)
}

// properties reads the properties object at i, under the member caps.
func (r *eventReader) properties(i int) int {
	if r.props.Exists() {
		return skipValue(r.text, i)
	}
	if r.text[i] != '{' {
		return r.first(&r.props, i)
	}
	end := members(r.text, i, boundedMembers(r.text, i, "properties", r.limits, &r.capErr, r.property))
	r.props = gjson.Result{Type: gjson.JSON, Raw: r.text[i:end], Index: i}
	return end
}

// timestamp keeps the first timestamp: a string, or leniently an epoch
// number.
func (r *eventReader) timestamp(i int) int {
	v, end := valueAt(r.text, i)
	if r.ev.Timestamp == "" {
		switch v.Type {
		case gjson.String:
			r.ev.Timestamp = v.Str
		case gjson.Number:
			r.ev.Timestamp = v.Raw
		}
	}
	return end
}

// property reads one member of properties: the identity and token
// fallbacks, and the person and group facts.
func (r *eventReader) property(k string, i int) int {
	switch k {
	case "distinct_id":
		return r.first(&r.propDistinctID, i)
	case "token":
		return r.first(&r.propToken, i)
	case "$cookieless_mode":
		return r.first(&r.cookieless, i)
	case "$ignore_sent_at":
		v, end := valueAt(r.text, i)
		r.ev.IgnoreSentAt = r.ev.IgnoreSentAt || v.Type == gjson.True
		return end
	}
	if dst := r.ev.Facts.field(k); dst != nil {
		v, end := valueAt(r.text, i)
		*dst = v
		return end
	}
	return skipValue(r.text, i)
}

// nameOf checks the event name; an engage request without one is an
// $identify.
func (r *eventReader) nameOf(engage, single bool) error {
	switch r.name.Type {
	case gjson.String:
		if r.name.Str == "" {
			return newError(ErrMissingEventName, "missing event name: event is empty")
		}
		r.ev.Name = r.name.Str
	case gjson.Null: // absent or null
		if !engage {
			if single {
				return newError(ErrMissingEventName, "non-engage request missing event name attribute")
			}
			return newError(ErrMissingEventName, "missing event name in a batch event")
		}
		r.ev.Name, r.ev.Engage = "$identify", true
	default:
		return newError(ErrInvalidPayload, "event name must be a string")
	}
	return nil
}

// propertiesOf checks the properties and the offset.
func (r *eventReader) propertiesOf() error {
	switch {
	case r.props.IsObject():
		r.ev.Properties = r.props
	case r.props.Type != gjson.Null:
		return newError(ErrInvalidPayload, "properties must be a json object")
	}
	if r.offset.Type == gjson.Number {
		r.ev.Offset, r.ev.HasOffset = r.offset.Int(), true
	}
	return nil
}

// identityOf settles the distinct_id (the top level unless missing or
// null, then $distinct_id, then the property), the token and
// $cookieless_mode.
func (r *eventReader) identityOf() error {
	dist := r.distinctID
	if dist.Type == gjson.Null {
		dist = r.altDistinctID
	}
	if dist.Type == gjson.Null {
		dist = r.propDistinctID
	}
	if r.token == "" && r.propToken.Type == gjson.String {
		r.token = strings.TrimSpace(r.propToken.Str)
	}
	r.ev.Token = r.token
	r.ev.DistinctID = distinctIDString(dist)
	switch r.cookieless.Type {
	case gjson.Null, gjson.False:
	case gjson.True:
		r.ev.Cookieless = true
	default:
		return newError(ErrInvalidCookielessMode, "invalid $cookieless_mode: must be a boolean")
	}
	return nil
}

// uuidOf checks the uuid; a missing or empty one is generated later.
func (r *eventReader) uuidOf() error {
	switch {
	case r.id.Type == gjson.Null || (r.id.Type == gjson.String && r.id.Str == ""):
		r.ev.UUIDGenerated = true
	case r.id.Type != gjson.String:
		return newError(ErrInvalidUUID, "invalid uuid: must be a string")
	default:
		u, err := uuid.Parse(r.id.Str)
		if err != nil {
			return newError(ErrInvalidUUID, "invalid uuid "+strconv.Quote(shorten(r.id.Str)))
		}
		r.ev.UUID = u
	}
	return nil
}

// validate runs the per-event checks that follow token resolution.
func (ev *RawEvent) validate() error {
	if ev.DistinctID == "" {
		return newError(ErrMissingDistinctID, "missing distinct_id in event "+strconv.Quote(shorten(ev.Name)))
	}
	if ev.UUIDGenerated {
		u, err := uuid.NewV7()
		if err != nil {
			return wrapError(ErrInvalidPayload, "generate uuid", err)
		}
		ev.UUID = u
	}
	return nil
}

func setOnce(dst *gjson.Result, v gjson.Result) {
	if !dst.Exists() {
		*dst = v
	}
}

// distinctIDString is capture's distinct_id conversion: strings as they are,
// other JSON values as compact JSON text; NUL becomes U+FFFD; cut to 200
// characters. Missing or null gives "".
func distinctIDString(v gjson.Result) string {
	var s string
	switch v.Type {
	case gjson.Null:
		return ""
	case gjson.String:
		s = v.Str
	case gjson.Number:
		s = v.Raw
	case gjson.True:
		s = "true"
	case gjson.False:
		s = "false"
	default:
		s = compactJSON(v.Raw)
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	if len(s) > maxDistinctIDLen {
		n := 0
		for i := range s {
			if n == maxDistinctIDLen {
				return s[:i]
			}
			n++
		}
	}
	return s
}

// compactJSON removes the blanks outside strings of valid JSON text.
func compactJSON(raw string) string {
	out := make([]byte, 0, len(raw))
	inString, escaped := false, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		}
		out = append(out, c)
	}
	return string(out)
}
