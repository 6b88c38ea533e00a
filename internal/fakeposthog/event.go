package fakeposthog

import (
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/tidwall/gjson"
)

// eventFields are the top-level fields of one event the fake reads.
type eventFields struct {
	event, uuid, distinctID, timestamp, offset, token, props gjson.Result
}

// readEvent checks one event: a valid uuid, a name, a distinct id, an
// RFC 3339 timestamp (or posthog-js's offset), properties an object
// (docs/contracts/posthog-capture.md §3.3–3.4).
func readEvent(raw gjson.Result, allowMissingUUID bool) (stored, *refusal) {
	if !raw.IsObject() {
		return stored{}, badRequest("event is not an object")
	}
	f := collectFields(raw)
	e, rerr := readIdentity(f, allowMissingUUID)
	if rerr != nil {
		return e, rerr
	}
	if rerr := e.readTime(f); rerr != nil {
		return e, rerr
	}
	if rerr := e.readProperties(f); rerr != nil {
		return e, rerr
	}
	if e.distinctID == "" {
		return e, badRequest("missing distinct_id")
	}
	return e, nil
}

// collectFields reads the event's keys in one pass, the first of each alias
// winning as serde's aliases do.
func collectFields(raw gjson.Result) eventFields {
	var f eventFields
	set := func(dst *gjson.Result, v gjson.Result) {
		if !dst.Exists() || dst.Type == gjson.Null {
			*dst = v
		}
	}
	raw.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "event":
			set(&f.event, v)
		case "uuid":
			set(&f.uuid, v)
		case "distinct_id", "$distinct_id":
			set(&f.distinctID, v)
		case "timestamp":
			set(&f.timestamp, v)
		case "offset":
			set(&f.offset, v)
		case "token", "$token", "api_key":
			set(&f.token, v)
		case "properties":
			set(&f.props, v)
		}
		return true
	})
	return f
}

// readIdentity reads the name, uuid, distinct id and per-event token.
func readIdentity(f eventFields, allowMissingUUID bool) (stored, *refusal) {
	var e stored
	if f.event.Type != gjson.String || f.event.Str == "" {
		return e, badRequest("missing event name")
	}
	e.event = f.event.Str
	if rerr := e.readUUID(f.uuid, allowMissingUUID); rerr != nil {
		return e, rerr
	}
	e.distinctID = distinctIDText(f.distinctID)
	if f.token.Exists() && f.token.Type != gjson.Null {
		if f.token.Type != gjson.String {
			return e, badRequest("token is not a string")
		}
		e.token = f.token.Str
	}
	return e, nil
}

// readUUID requires a valid uuid; without one, capture-rs makes a UUIDv7,
// which the fake does only when allowed, since a sender's retries of such an
// event cannot be told apart.
func (e *stored) readUUID(v gjson.Result, allowMissing bool) *refusal {
	if v.Exists() && v.Type != gjson.Null && v.Type != gjson.String {
		return badRequest("invalid_uuid: %s", v.Raw)
	}
	if v.Str == "" {
		if !allowMissing {
			return badRequest("missing uuid: the fake requires one on every event (Options.AllowMissingUUID)")
		}
		e.key = uuid.Must(uuid.NewV7())
		e.uuid, e.generatedUUID = e.key.String(), true
		return nil
	}
	key, err := uuid.Parse(v.Str)
	if err != nil {
		return badRequest("invalid_uuid: %q", v.Str)
	}
	e.key, e.uuid = key, v.Str
	return nil
}

// readTime needs an RFC 3339 timestamp or an integer offset: PostHog would
// fall back to its clock, the fake refuses so a sender that loses the time is seen.
func (e *stored) readTime(f eventFields) *refusal {
	if f.timestamp.Exists() && f.timestamp.Type != gjson.Null {
		if f.timestamp.Type != gjson.String || !isRFC3339(f.timestamp.Str) {
			return badRequest("timestamp %s is not an RFC 3339 time", f.timestamp.Raw)
		}
		e.timestamp = f.timestamp.Str
	}
	if f.offset.Exists() && f.offset.Type != gjson.Null {
		if f.offset.Type != gjson.Number || f.offset.Num != float64(f.offset.Int()) {
			return badRequest("offset %s is not an integer", f.offset.Raw)
		}
		off := f.offset.Int()
		e.offset = &off
	}
	if e.timestamp == "" && e.offset == nil {
		return badRequest("missing timestamp")
	}
	return nil
}

// readProperties checks properties is an object and reads the keys capture
// looks at in it: token, distinct_id, $ip, $cookieless_mode.
func (e *stored) readProperties(f eventFields) *refusal {
	e.props = "{}"
	if !f.props.Exists() {
		return nil
	}
	if !f.props.IsObject() {
		return badRequest("properties is not an object")
	}
	e.props = f.props.Raw
	var rerr *refusal
	f.props.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "token":
			if e.token == "" && v.Type == gjson.String {
				e.token = v.Str
			}
		case "distinct_id":
			if e.distinctID == "" {
				e.distinctID = distinctIDText(v)
			}
		case "$ip":
			if v.Type == gjson.String {
				e.ip = v.Str
			}
		case "$cookieless_mode":
			if !v.IsBool() {
				rerr = badRequest("$cookieless_mode is not a boolean")
			}
		}
		return rerr == nil
	})
	return rerr
}

// distinctIDText turns any JSON value into PostHog's distinct id text:
// strings as they are, others as their compact JSON, NUL replaced, cut to
// 200 characters; null is "".
func distinctIDText(v gjson.Result) string {
	if v.Type == gjson.Null {
		return ""
	}
	text := v.Str
	if v.Type != gjson.String {
		text = gjson.Get(v.Raw, "@ugly").Raw
	}
	text = strings.ReplaceAll(text, "\x00", "\uFFFD")
	if utf8.RuneCountInString(text) <= maxDistinctID {
		return text
	}
	return string([]rune(text)[:maxDistinctID])
}
