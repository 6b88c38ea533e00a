package posthog

// The gjson-based payload parser this package used before the single-pass
// walker, kept as the reference the walker-based parser is fuzzed against.

import (
	"fmt"
	"testing"

	"strconv"
	"strings"
	"unsafe"

	"github.com/google/uuid"
	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/translate/jsontext"
)

func referenceParsePayload(jsonText []byte, path string) (Payload, error) {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	engage := strings.HasPrefix(path, "/engage")
	text := unsafe.String(unsafe.SliceData(jsonText), len(jsonText))
	// Validation is not what this reference checks (jsontext has its own
	// fuzz target against gjson): it answers as ParsePayload does, so that
	// a text both too deep and invalid gets the same error from both.
	switch jsontext.Validate(jsonText, jsontext.MaxDepth) {
	case jsontext.Invalid:
		return Payload{}, newError(ErrInvalidPayload, "parse json: invalid json")
	case jsontext.TooDeep:
		return Payload{}, newError(ErrTooDeep, "parse json: nested more than "+strconv.Itoa(jsontext.MaxDepth)+" levels deep")
	}
	if !gjson.Valid(text) {
		panic("jsontext.Validate accepted text gjson refuses")
	}
	root := gjson.Parse(text)

	var p Payload
	var batchToken string
	switch {
	case root.IsArray():
		if err := p.referenceAppendEvents(root, engage); err != nil {
			return Payload{}, err
		}
	case root.IsObject():
		var batch gjson.Result
		var tokenErr error
		root.ForEach(func(k, v gjson.Result) bool {
			switch k.Str {
			case "batch":
				if !batch.Exists() {
					batch = v
				}
			case "api_key", "token":
				if batchToken != "" {
					break
				}
				if v.Type == gjson.String {
					batchToken = v.Str
				} else if v.Type != gjson.Null {
					tokenErr = newError(ErrInvalidToken, "invalid project api key: "+k.Str+" must be a string")
				}
			case "sent_at":
				if v.Type == gjson.String && p.SentAt == "" {
					p.SentAt = v.Str
				}
			case "historical_migration":
				p.HistoricalMigration = p.HistoricalMigration || v.Type == gjson.True
			}
			return true
		})
		if batch.Exists() && batch.Type != gjson.Null {
			if tokenErr != nil {
				return Payload{}, tokenErr
			}
			if !batch.IsArray() {
				return Payload{}, newError(ErrInvalidPayload, "batch must be an array of events")
			}
			if err := p.referenceAppendEvents(batch, engage); err != nil {
				return Payload{}, err
			}
			break
		}
		// One event object: its api_key/token are the event's own.
		batchToken, p.SentAt, p.HistoricalMigration = "", "", false
		ev, err := referenceParseEvent(root, engage, true)
		if err != nil {
			return Payload{}, err
		}
		p.Events = append(make([]RawEvent, 0, 1), ev)
	default:
		return Payload{}, newError(ErrInvalidPayload, "payload must be a json object or an array of events")
	}

	if len(p.Events) == 0 {
		return Payload{}, newError(ErrEmptyBatch, "empty batch: the payload holds no events")
	}
	tok, err := resolveToken(batchToken, p.Events)
	if err != nil {
		return Payload{}, err
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
			return Payload{}, err
		}
		kept = append(kept, *ev)
	}
	clear(p.Events[len(kept):])
	p.Events = kept
	return p, nil
}

// appendEvents reads every element of the events array arr.
func (p *Payload) referenceAppendEvents(arr gjson.Result, engage bool) error {
	n := len(arr.Raw) / 1024
	p.Events = make([]RawEvent, 0, min(max(n, 1), 512))
	var err error
	arr.ForEach(func(_, v gjson.Result) bool {
		if !v.IsObject() {
			err = newError(ErrInvalidPayload, "all events must be json objects")
			return false
		}
		var ev RawEvent
		if ev, err = referenceParseEvent(v, engage, false); err != nil {
			return false
		}
		p.Events = append(p.Events, ev)
		return true
	})
	return err
}

// parseEvent reads the fields of one event object; the distinct_id, uuid and
// $cookieless_mode checks run later in validate.
func referenceParseEvent(obj gjson.Result, engage, single bool) (RawEvent, error) {
	ev := RawEvent{Raw: obj}
	var name, distinctID, altDistinctID, id, offset, props gjson.Result
	var token string
	obj.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "event":
			setOnce(&name, v)
		case "distinct_id":
			setOnce(&distinctID, v)
		case "$distinct_id":
			setOnce(&altDistinctID, v)
		case "uuid":
			setOnce(&id, v)
		case "properties":
			setOnce(&props, v)
		case "timestamp":
			if ev.Timestamp == "" {
				switch v.Type {
				case gjson.String:
					ev.Timestamp = v.Str
				case gjson.Number: // lenient: an epoch number
					ev.Timestamp = v.Raw
				}
			}
		case "offset":
			setOnce(&offset, v)
		case "$set":
			setOnce(&ev.Set, v)
		case "$set_once":
			setOnce(&ev.SetOnce, v)
		case "token", "$token", "api_key":
			if token == "" && v.Type == gjson.String {
				token = strings.TrimSpace(v.Str)
			}
		}
		return true
	})

	switch name.Type {
	case gjson.String:
		if name.Str == "" {
			return ev, newError(ErrMissingEventName, "missing event name: event is empty")
		}
		ev.Name = name.Str
	case gjson.Null: // absent or null
		if !engage {
			if single {
				return ev, newError(ErrMissingEventName, "non-engage request missing event name attribute")
			}
			return ev, newError(ErrMissingEventName, "missing event name in a batch event")
		}
		ev.Name, ev.Engage = "$identify", true
	default:
		return ev, newError(ErrInvalidPayload, "event name must be a string")
	}

	switch {
	case props.IsObject():
		ev.Properties = props
	case props.Type != gjson.Null:
		return ev, newError(ErrInvalidPayload, "properties must be a json object")
	}

	if offset.Type == gjson.Number {
		ev.Offset, ev.HasOffset = offset.Int(), true
	}

	// distinct_id: the top level unless missing or null, else the property.
	dist := distinctID
	if dist.Type == gjson.Null {
		dist = altDistinctID
	}
	var propDistinctID, propToken, cookieless gjson.Result
	ev.Properties.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "distinct_id":
			setOnce(&propDistinctID, v)
		case "token":
			setOnce(&propToken, v)
		case "$ignore_sent_at":
			ev.IgnoreSentAt = ev.IgnoreSentAt || v.Type == gjson.True
		case "$cookieless_mode":
			setOnce(&cookieless, v)
		case "$lib":
			ev.Facts.Lib = v
		case "$process_person_profile":
			ev.Facts.ProcessPerson = v
		case "$anon_distinct_id":
			ev.Facts.AnonDistinctID = v
		case "alias":
			ev.Facts.Alias = v
		case "$set":
			ev.Facts.Set = v
		case "$set_once":
			ev.Facts.SetOnce = v
		case "$unset":
			ev.Facts.Unset = v
		case "$groups":
			ev.Facts.Groups = v
		case "$group_type":
			ev.Facts.GroupType = v
		case "$group_key":
			ev.Facts.GroupKey = v
		}
		return true
	})
	if dist.Type == gjson.Null {
		dist = propDistinctID
	}
	if token == "" && propToken.Type == gjson.String {
		token = strings.TrimSpace(propToken.Str)
	}
	ev.Token = token
	ev.DistinctID = distinctIDString(dist)

	switch cookieless.Type {
	case gjson.Null:
	case gjson.True:
		ev.Cookieless = true
	case gjson.False:
	default:
		return ev, newError(ErrInvalidCookielessMode, "invalid $cookieless_mode: must be a boolean")
	}

	switch {
	case id.Type == gjson.Null || (id.Type == gjson.String && id.Str == ""):
		ev.UUIDGenerated = true
	case id.Type != gjson.String:
		return ev, newError(ErrInvalidUUID, "invalid uuid: must be a string")
	default:
		u, err := uuid.Parse(id.Str)
		if err != nil {
			return ev, newError(ErrInvalidUUID, "invalid uuid "+strconv.Quote(shorten(id.Str)))
		}
		ev.UUID = u
	}
	return ev, nil
}

func FuzzParsePayloadMatchesReference(f *testing.F) {
	for _, s := range []string{
		`{"api_key":"phc_x","batch":[{"event":"e","distinct_id":"d","properties":{"$set":{"a":1},"token":"t"}}]}`,
		`[{"event":"e","properties":{"distinct_id":"p","$lib":"web","$process_person_profile":false}}]`,
		`{"event":"x","distinct_id":1,"uuid":"0190e0a0-0000-7000-8000-000000000001","properties":{"$cookieless_mode":true}}`,
		`{"batch":null,"event":"x","$distinct_id":"d","timestamp":17000}`,
		`{"batch":[1]}`, `{"batch":{"a":1}}`, `{"token":5,"batch":[]}`,
	} {
		f.Add(s, "/batch/")
	}
	f.Fuzz(func(t *testing.T, text, path string) {
		got, gerr := ParsePayload([]byte(text), path)
		want, werr := referenceParsePayload([]byte(text), path)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Fatalf("%q: error %v, reference %v", text, gerr, werr)
		}
		if gerr != nil {
			return
		}
		norm := func(p Payload) string {
			for i := range p.Events {
				if p.Events[i].UUIDGenerated {
					p.Events[i].UUID = uuid.Nil
				}
				p.Events[i].Raw.Index, p.Events[i].Properties.Index = 0, 0
				f := &p.Events[i].Facts
				for _, r := range []*gjson.Result{&p.Events[i].Set, &p.Events[i].SetOnce, &f.Lib, &f.ProcessPerson, &f.AnonDistinctID, &f.Alias, &f.Set, &f.SetOnce, &f.Unset, &f.Groups, &f.GroupType, &f.GroupKey} {
					r.Index = 0
				}
			}
			return fmt.Sprintf("%+v", p)
		}
		if a, b := norm(got), norm(want); a != b {
			t.Fatalf("%q:\n got %s\nwant %s", text, a, b)
		}
	})
}
