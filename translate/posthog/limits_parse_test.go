package posthog

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// event is a batch event with n extra properties p0..pn-1 and the given
// extra top-level members.
func event(name string, n int, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"event":%q,"distinct_id":"d"%s,"properties":{`, name, extra)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"p%d":%d`, i, i)
	}
	b.WriteString("}}")
	return b.String()
}

func batchOf(events ...string) []byte {
	return []byte(`{"api_key":"t","batch":[` + strings.Join(events, ",") + `]}`)
}

func TestParseLimitsRefuse(t *testing.T) {
	f := func(name string, text []byte, limits Limits, kind error, msg string) {
		t.Helper()
		p, err := ParsePayloadInto(nil, text, "/batch/", limits)
		if !errors.Is(err, kind) || !strings.Contains(err.Error(), msg) {
			t.Fatalf("%s: %d events, %v; want %v containing %q", name, len(p.Events), err, kind, msg)
		}
	}
	ten := Limits{MaxEvents: 10, MaxProperties: 10, MaxPropertyBytes: 64, MaxEventBytes: 2000}
	many := make([]string, 11)
	for i := range many {
		many[i] = event("e", 1, "")
	}
	f("events in a batch", batchOf(many...), ten, ErrTooManyEvents, "too many events: more than 10 in one request")
	f("events in an array", []byte(`[`+strings.Join(many, ",")+`]`), ten, ErrTooManyEvents, "more than 10")
	f("events before a bad one", []byte(`[`+strings.Join(many, ",")+`,1]`), ten, ErrTooManyEvents, "more than 10")
	f("properties", batchOf(event("e", 11, "")), ten, ErrTooManyProperties, "too many properties: properties holds more than 10 members")
	f("$set", batchOf(event("e", 0, `,"$set":{`+numbered(11)+`}`)), ten, ErrTooManyProperties, "$set holds more than 10")
	f("$set_once", batchOf(event("e", 0, `,"$set_once":{`+numbered(11)+`}`)), ten, ErrTooManyProperties, "$set_once holds more than 10")
	// properties.$set is itself a property value: the size cap bounds it whole
	f("properties.$set size", []byte(`{"event":"e","distinct_id":"d","token":"t","properties":{"$set":{`+numbered(11)+`}}}`), ten, ErrPropertyTooLarge, `properties."$set" is 79 bytes`)
	wide := ten
	wide.MaxPropertyBytes = 512
	f("properties.$set", []byte(`{"event":"e","distinct_id":"d","token":"t","properties":{"$set":{`+numbered(11)+`}}}`), wide, ErrTooManyProperties, "properties.$set holds")
	f("properties.$unset array", []byte(`{"event":"e","distinct_id":"d","token":"t","properties":{"$unset":["a","b","c","d","e","f","g","h","i","j","k"]}}`), wide, ErrTooManyProperties, "properties.$unset holds")
	big := `"` + strings.Repeat("x", 70) + `"`
	f("property value", batchOf(`{"event":"e","distinct_id":"d","properties":{"big":`+big+`}}`), ten, ErrPropertyTooLarge, `property value too large: properties."big" is 72 bytes, over the limit of 64`)
	f("$set value", batchOf(`{"event":"e","distinct_id":"d","$set":{"big":`+big+`}}`), ten, ErrPropertyTooLarge, `$set."big" is 72 bytes`)
	f("object value", batchOf(`{"event":"e","distinct_id":"d","properties":{"o":{"a":`+big+`}}}`), ten, ErrPropertyTooLarge, `properties."o"`)
	huge := event("e", 9, `,"pad":"`+strings.Repeat("x", 2000)+`"`)
	f("one event, over the size", []byte(strings.Replace(huge, `{"event"`, `{"token":"t","event"`, 1)), ten, ErrEventTooLarge, "over the limit of 2000")
	f("every event over the size", batchOf(huge, huge), ten, ErrEventTooLarge, "every event of the request is over 2000 bytes")
	// the defaults: 10,001 events
	tiny := make([]string, DefaultMaxEvents+1)
	for i := range tiny {
		tiny[i] = `{"event":"e","distinct_id":"d"}`
	}
	f("default events", batchOf(tiny...), Limits{}, ErrTooManyEvents, "more than 10000")
}

func numbered(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"k%d":1`, i)
	}
	return strings.Join(parts, ",")
}

func TestParseLimitsAccept(t *testing.T) {
	ten := Limits{MaxEvents: 10, MaxProperties: 10, MaxPropertyBytes: 64, MaxEventBytes: 2000}
	f := func(name string, text []byte, events, oversize int) {
		t.Helper()
		p, err := ParsePayloadInto(nil, text, "/batch/", ten)
		if err != nil || len(p.Events) != events || p.Oversize != oversize {
			t.Fatalf("%s: %d events, %d oversize, %v; want %d and %d", name, len(p.Events), p.Oversize, err, events, oversize)
		}
	}
	at := make([]string, 10)
	for i := range at {
		at[i] = event("e", 10, `,"$set":{`+numbered(10)+`}`)
	}
	f("exactly at every cap", batchOf(at...), 10, 0)
	f("a value of exactly 64 bytes", batchOf(`{"event":"e","distinct_id":"d","properties":{"v":"`+strings.Repeat("x", 62)+`"}}`), 1, 0)
	// An event over the size is dropped whatever else is wrong with it
	// (here: too many properties, a value too large, no distinct_id), and
	// the rest is kept.
	huge := `{"event":"e","properties":{` + numbered(20) + `,"pad":"` + strings.Repeat("x", 2000) + `"}}`
	f("one oversize event dropped", batchOf(event("a", 1, ""), huge, event("b", 1, "")), 2, 1)
	// The caps count $performance_event, which is dropped later.
	f("dropped events count", batchOf(event("$performance_event", 1, ""), event("a", 1, "")), 1, 0)
}

// TestParseChargesEvents: the events' slice is charged to the budget before
// it is allocated, and a refusal stops the parse with ErrOverloaded.
func TestParseChargesEvents(t *testing.T) {
	events := make([]string, 200)
	for i := range events {
		events[i] = event("e", 2, "")
	}
	text := batchOf(events...)
	perEvent := int(unsafe.Sizeof(RawEvent{}))
	b := &countingBudget{room: 1 << 30}
	p, err := ParsePayloadInto(nil, text, "/batch/", Limits{Budget: b})
	if err != nil || len(p.Events) != 200 || b.reserved < 200*perEvent || b.reserved > 2*200*perEvent {
		t.Fatalf("%d events, %v; reserved %d bytes, want %d to %d", len(p.Events), err, b.reserved, 200*perEvent, 2*200*perEvent)
	}
	b = &countingBudget{room: 100 * perEvent}
	_, err = ParsePayloadInto(nil, text, "/batch/", Limits{Budget: b})
	if !errors.Is(err, ErrOverloaded) || !errors.Is(err, errNoRoom) {
		t.Fatalf("with room for 100 events: %v, want ErrOverloaded wrapping the budget's error", err)
	}
}
