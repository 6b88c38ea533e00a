package posthog

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// eventSummary is what the payload tests compare: name|distinct_id|token.
func eventSummary(p Payload) string {
	var parts []string
	for _, ev := range p.Events {
		parts = append(parts, ev.Name+"|"+ev.DistinctID+"|"+ev.Token)
	}
	return strings.Join(parts, ", ")
}

func TestParsePayloadShapes(t *testing.T) {
	f := func(path, body, wantToken, wantEvents string) {
		t.Helper()
		p, err := ParsePayload([]byte(body), path)
		if err != nil {
			t.Fatalf("ParsePayload(%s, %s): unexpected error: %v", path, body, err)
		}
		if p.Token != wantToken || eventSummary(p) != wantEvents {
			t.Fatalf("ParsePayload(%s, %s): token %q events %q; want %q %q", path, body, p.Token, eventSummary(p), wantToken, wantEvents)
		}
	}
	// array
	f("/e/", `[{"event":"a","properties":{"distinct_id":"d1","token":"t"}},{"event":"b","properties":{"distinct_id":"d2","token":"t"}}]`,
		"t", "a|d1|t, b|d2|t")
	// batch with api_key or token
	f("/batch/", `{"api_key":"t","batch":[{"event":"a","distinct_id":"d1"}]}`, "t", "a|d1|")
	f("/batch/", `{"token":"t","batch":[{"event":"a","distinct_id":"d1"}],"sent_at":"2024-01-01T00:00:00Z"}`, "t", "a|d1|")
	// a batch without a batch-level token takes the events' tokens
	f("/batch/", `{"batch":[{"event":"a","distinct_id":"d1","api_key":"t"}]}`, "t", "a|d1|t")
	// one event
	f("/i/v0/e/", `{"event":"a","distinct_id":"d1","api_key":"t"}`, "t", "a|d1|t")
	f("/capture", `{"event":"a","$distinct_id":"d1","$token":"t"}`, "t", "a|d1|t")
	f("/track/", `{"event":"a","properties":{"distinct_id":"d1","token":"t"}}`, "t", "a|d1|t")
	// engage: no event name on /engage becomes $identify
	f("/engage/", `{"distinct_id":"d1","api_key":"t","properties":{"$set":{"a":1}}}`, "t", "$identify|d1|t")
	f("/engage", `{"$distinct_id":"d1","$token":"t","$set":{"a":1}}`, "t", "$identify|d1|t")
	f("/engage/?ip=1", `{"event":null,"distinct_id":"d1","api_key":"t"}`, "t", "$identify|d1|t")
	f("/engage/", `{"event":"named","distinct_id":"d1","api_key":"t"}`, "t", "named|d1|t")
	f("/engage/", `[{"distinct_id":"d1","token":"t"}]`, "t", "$identify|d1|t")
	// $performance_event is dropped
	f("/e/", `[{"event":"$performance_event","properties":{"distinct_id":"d1","token":"t"}},{"event":"b","properties":{"distinct_id":"d2","token":"t"}}]`,
		"t", "b|d2|t")
	f("/e/", `{"event":"$performance_event","distinct_id":"d1","token":"t"}`, "t", "")
	f("/e/", `[{"event":"$performance_event","token":"t"}]`, "t", "") // dropped before the distinct_id check
}

func TestParsePayloadErrors(t *testing.T) {
	f := func(path, body string, kind error, msg string) {
		t.Helper()
		p, err := ParsePayload([]byte(body), path)
		if !errors.Is(err, kind) {
			t.Fatalf("ParsePayload(%s, %s) = %q, %v; want error %v", path, body, eventSummary(p), err, kind)
		}
		if !strings.Contains(err.Error(), msg) {
			t.Fatalf("error %q does not contain %q", err, msg)
		}
	}
	f("/e/", ``, ErrInvalidPayload, "parse json: invalid json")
	f("/e/", `{"event":`, ErrInvalidPayload, "invalid json")
	f("/track", `foo`, ErrInvalidPayload, "invalid json")
	deep := `{"api_key":"phc_x","batch":[{"event":"e","distinct_id":"d","properties":{"a":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}}]}`
	f("/batch/", deep, ErrTooDeep, "nested more than 256 levels deep")
	f("/batch/", deep[:len(deep)-10], ErrTooDeep, "nested more than 256 levels deep") // deep before it is cut
	f("/e/", `"event"`, ErrInvalidPayload, "must be a json object or an array")
	f("/e/", `42`, ErrInvalidPayload, "must be a json object or an array")
	f("/e/", `[]`, ErrEmptyBatch, "empty batch")
	f("/batch/", `{"api_key":"t","batch":[]}`, ErrEmptyBatch, "empty batch")
	f("/batch/", `{"api_key":"t","batch":"[{}]"}`, ErrInvalidPayload, "batch must be an array")
	f("/e/", `["event"]`, ErrInvalidPayload, "all events must be json objects")
	f("/batch/", `{"api_key":"t","batch":[{"event":"a","distinct_id":"d"},1]}`, ErrInvalidPayload, "all events must be json objects")
	// names
	f("/e/", `{"distinct_id":"d","api_key":"t"}`, ErrMissingEventName, "non-engage request missing event name attribute")
	f("/e/", `[{"distinct_id":"d","token":"t"}]`, ErrMissingEventName, "missing event name")
	f("/e/", `{"event":"","distinct_id":"d","api_key":"t"}`, ErrMissingEventName, "event is empty")
	f("/engage/", `{"event":"","distinct_id":"d","api_key":"t"}`, ErrMissingEventName, "event is empty")
	f("/e/", `{"event":7,"distinct_id":"d","api_key":"t"}`, ErrInvalidPayload, "event name must be a string")
	f("/e/", `{"event":"a","distinct_id":"d","api_key":"t","properties":[1]}`, ErrInvalidPayload, "properties must be a json object")
	// tokens
	f("/e/", `{"event":"a","distinct_id":"d"}`, ErrNoToken, "missing project api key")
	f("/e/", `{"event":"a","distinct_id":"d","api_key":"   "}`, ErrNoToken, "missing project api key")
	f("/e/", `[{"event":"a","distinct_id":"d","token":"t1"},{"event":"b","distinct_id":"d","token":"t2"}]`, ErrMultipleTokens, `"t1" and "t2"`)
	f("/e/", `[{"event":"a","distinct_id":"d","token":"t1"},{"event":"b","distinct_id":"d","properties":{"token":"t2"}}]`, ErrMultipleTokens, "multiple")
	f("/e/", `{"event":"a","distinct_id":"d","api_key":"phx_personal"}`, ErrInvalidToken, "personal api key")
	f("/batch/", `{"api_key":"phx_personal","batch":[{"event":"a","distinct_id":"d"}]}`, ErrInvalidToken, "personal api key")
	f("/e/", `{"event":"a","distinct_id":"d","api_key":"`+strings.Repeat("k", 65)+`"}`, ErrInvalidToken, "longer than 64")
	f("/e/", `{"event":"a","distinct_id":"d","api_key":"tök"}`, ErrInvalidToken, "not ascii")
	f("/e/", `{"event":"a","distinct_id":"d","api_key":"t\u0000k"}`, ErrInvalidToken, "nul")
	f("/batch/", `{"api_key":5,"batch":[{"event":"a","distinct_id":"d"}]}`, ErrInvalidToken, "api_key must be a string")
	f("/e/", `[{"event":"$performance_event","distinct_id":"d"}]`, ErrNoToken, "missing project api key")
	// distinct_id
	f("/e/", `{"event":"a","api_key":"t"}`, ErrMissingDistinctID, `missing distinct_id in event "a"`)
	f("/e/", `{"event":"a","api_key":"t","distinct_id":null}`, ErrMissingDistinctID, "missing distinct_id")
	f("/e/", `{"event":"a","api_key":"t","distinct_id":""}`, ErrMissingDistinctID, "missing distinct_id")
	f("/e/", `{"event":"a","api_key":"t","distinct_id":"","properties":{"distinct_id":"p"}}`, ErrMissingDistinctID, "missing distinct_id")
	f("/e/", `{"event":"a","api_key":"t","properties":{"distinct_id":null}}`, ErrMissingDistinctID, "missing distinct_id")
	// uuid
	f("/e/", `{"event":"a","api_key":"t","distinct_id":"d","uuid":"not-a-uuid"}`, ErrInvalidUUID, `invalid uuid "not-a-uuid"`)
	f("/e/", `{"event":"a","api_key":"t","distinct_id":"d","uuid":12}`, ErrInvalidUUID, "invalid uuid")
	f("/e/", `{"event":"a","api_key":"t","distinct_id":"d","uuid":"018a981f-4b35-7c66-825e-8b0eeae6571"}`, ErrInvalidUUID, "invalid uuid")
	// $cookieless_mode
	f("/e/", `{"event":"a","api_key":"t","distinct_id":"d","properties":{"$cookieless_mode":"yes"}}`, ErrInvalidCookielessMode, "must be a boolean")
}

func TestParsePayloadDistinctID(t *testing.T) {
	f := func(event, want string) {
		t.Helper()
		p, err := ParsePayload([]byte(`{"event":"e","api_key":"t",`+event+`}`), "/i/v0/e/")
		if err != nil {
			t.Fatalf("%s: unexpected error: %v", event, err)
		}
		if got := p.Events[0].DistinctID; got != want {
			t.Fatalf("%s: distinct_id %q, want %q", event, got, want)
		}
	}
	f(`"distinct_id":"abc"`, "abc")
	f(`"distinct_id":23`, "23")
	f(`"distinct_id":23.4`, "23.4")
	f(`"distinct_id":-1`, "-1")
	f(`"distinct_id":true`, "true")
	f(`"distinct_id":false`, "false")
	f(`"distinct_id":["a", "b"]`, `["a","b"]`)
	f(`"distinct_id":{ "a" : "x y", "b":[1, 2] }`, `{"a":"x y","b":[1,2]}`)
	f(`"distinct_id":"top","properties":{"distinct_id":"prop"}`, "top")
	f(`"$distinct_id":"alt","properties":{"distinct_id":"prop"}`, "alt")
	f(`"distinct_id":"top","$distinct_id":"alt"`, "top")
	f(`"distinct_id":null,"properties":{"distinct_id":"prop"}`, "prop")
	f(`"properties":{"distinct_id":"prop"}`, "prop")
	f(`"properties":{"distinct_id":42}`, "42")
	f(`"distinct_id":"a\u0000b"`, "a\uFFFDb")
	f(`"distinct_id":"a\"b\\c"`, `a"b\c`)
	f(`"distinct_id":" "`, " ")
	f(`"distinct_id":"`+strings.Repeat("x", 222)+`"`, strings.Repeat("x", 200))
	f(`"distinct_id":"`+strings.Repeat("é", 201)+`"`, strings.Repeat("é", 200))
	f(`"distinct_id":"`+strings.Repeat("😀", 200)+`"`, strings.Repeat("😀", 200))
}

func TestParsePayloadFields(t *testing.T) {
	body := `{"api_key":" t ","historical_migration":true,"sent_at":"2024-04-17T14:40:56.900Z","batch":[` +
		`{"event":"a","distinct_id":"d","uuid":"018A981F-4B35-7C66-825E-8B0EEAE65714","timestamp":"2024-04-17T14:40:56.900Z",` +
		`"$set":{"email":"x@y"},"$set_once":{"first":1},"properties":{"$ignore_sent_at":true,"$cookieless_mode":true,"k.1":"v"}},` +
		`{"event":"b","distinct_id":"d","uuid":"","offset":308,"properties":{"$cookieless_mode":false}},` +
		`{"event":"c","distinct_id":"d","timestamp":1700000000000,"properties":null}]}`
	p, err := ParsePayload([]byte(body), "/batch/")
	if err != nil {
		t.Fatal(err)
	}
	if p.Token != "t" || !p.HistoricalMigration || p.SentAt != "2024-04-17T14:40:56.900Z" || len(p.Events) != 3 {
		t.Fatalf("payload %+v", p)
	}
	a, b, c := &p.Events[0], &p.Events[1], &p.Events[2]
	if a.UUID.String() != "018a981f-4b35-7c66-825e-8b0eeae65714" || a.UUIDGenerated {
		t.Fatalf("uuid %s generated=%v", a.UUID, a.UUIDGenerated)
	}
	if a.Timestamp != "2024-04-17T14:40:56.900Z" || a.HasOffset || !a.IgnoreSentAt || !a.Cookieless {
		t.Fatalf("event a %+v", a)
	}
	if a.Set.Get("email").Str != "x@y" || a.SetOnce.Get("first").Int() != 1 || a.Prop("k.1").Str != "v" || a.Prop("missing").Exists() {
		t.Fatalf("event a: $set %s, $set_once %s, k.1 %s", a.Set.Raw, a.SetOnce.Raw, a.Prop("k.1").Raw)
	}
	if !b.UUIDGenerated || b.UUID.Version() != 7 || !b.HasOffset || b.Offset != 308 || b.Cookieless || b.IgnoreSentAt {
		t.Fatalf("event b %+v", b)
	}
	if c.Timestamp != "1700000000000" || c.Properties.Exists() || c.Set.Exists() || c.UUID == (uuid.UUID{}) {
		t.Fatalf("event c %+v", c)
	}
	if a.Raw.Get("event").Str != "a" || c.Raw.Get("timestamp").Int() != 1700000000000 {
		t.Fatalf("raw events not kept")
	}

	// historical_migration and sent_at belong to the batch shape only
	p, err = ParsePayload([]byte(`{"event":"a","distinct_id":"d","api_key":"t","historical_migration":true,"sent_at":"2024-01-01T00:00:00Z"}`), "/e/")
	if err != nil || p.HistoricalMigration || p.SentAt != "" {
		t.Fatalf("single event: %+v, %v", p, err)
	}
	// generated uuids differ
	p, err = ParsePayload([]byte(`[{"event":"a","distinct_id":"d","token":"t"},{"event":"a","distinct_id":"d","token":"t"}]`), "/e/")
	if err != nil || p.Events[0].UUID == p.Events[1].UUID {
		t.Fatalf("generated uuids: %v, %v", p.Events, err)
	}
}

// ParsePayloadInto reading into a slice reused from request to request (as
// Capture does, cleared in between) gives what a fresh ParsePayload gives,
// over every recorded request.
func TestParsePayloadIntoReuse(t *testing.T) {
	var reused []RawEvent
	lines := 0
	for _, r := range dumpRequests(t) {
		want, err := ParsePayload(r.text, r.in.Path)
		if err != nil {
			t.Fatalf("line %d: parse: %v", r.n, err)
		}
		got, err := ParsePayloadInto(reused, r.text, r.in.Path, Limits{})
		if err != nil {
			t.Fatalf("line %d: parse into a reused slice: %v", r.n, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("line %d: parsed into a reused slice:\n got %+v\nwant %+v", r.n, got, want)
		}
		clear(got.Events)
		reused = got.Events[:0]
		lines++
	}
	if lines < 10 || cap(reused) == 0 {
		t.Fatalf("%d lines replayed, reused capacity %d", lines, cap(reused))
	}
}
