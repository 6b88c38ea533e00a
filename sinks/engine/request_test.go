package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

var (
	callID    = uuid.MustParse("018f0000-0000-7000-8000-0000000000c1")
	eventID   = uuid.MustParse("018f0000-0000-7000-8000-0000000000e1")
	contactID = uuid.MustParse("018f0000-0000-7000-8000-0000000000a1")
)

// requestCase is one engine call and the request the engine must get.
type requestCase struct {
	name   string
	call   canonical.EngineCall
	event  *canonical.Event
	method string
	path   string
	key    string
}

func requestCases() []requestCase {
	native := &canonical.Event{
		ID: eventID, Name: "order.placed", UserID: "u1", ContactID: contactID,
		Properties: []byte(`{"plan":"pro","n":2}`), HasValue: true, Value: 49.5, Currency: "EUR",
		Groups: []byte(`{"company":"acme"}`), Source: "api", IdempotencyKey: "native:ph:order-1",
		OccurredAt: 1700000000123, ReceivedAt: 1700000000456,
	}
	plain := *native
	plain.HasValue, plain.Currency, plain.Groups, plain.IdempotencyKey, plain.Properties = false, "", []byte(`{}`), "", []byte(`{}`)
	capture := &canonical.Event{
		ID: eventID, Name: "$pageview", UserID: "u1", ContactID: contactID, DistinctID: "u1",
		Properties: []byte(`{"$current_url":"https://a.example/","$set":{"plan":"pro"}}`), Groups: []byte(`{}`),
		Source: "posthog", OccurredAt: 1700000000123, ReceivedAt: 1700000000456,
	}
	return []requestCase{
		{name: "upsert", call: canonical.EngineCall{ID: callID, Kind: canonical.CallUpsert, ContactID: contactID,
			Body: []byte(`{"userId":"u1","email":"a@b.co","properties":{"plan":"pro","old":null},"lists":{"news":true}}`)},
			method: "PUT", path: "/v1/contacts"},
		{name: "delete", call: canonical.EngineCall{ID: callID, Kind: canonical.CallDelete, Body: []byte(`{"email":"a@b.co"}`)},
			method: "DELETE", path: "/v1/contacts"},
		{name: "native_event", call: canonical.EngineCall{ID: eventID, Kind: canonical.CallEvent, ContactID: contactID,
			Body: []byte(`{"userId":"u1","contactProperties":{"plan":"pro"},"lists":{"news":false}}`)}, event: native,
			method: "POST", path: "/v1/events", key: "ph:order-1"},
		{name: "native_event_plain", call: canonical.EngineCall{ID: eventID, Kind: canonical.CallEvent, ContactID: contactID,
			Body: []byte(`{}`)}, event: &plain, method: "POST", path: "/v1/events", key: eventID.String()},
		{name: "posthog_event", call: canonical.EngineCall{ID: eventID, Kind: canonical.CallEvent, ContactID: contactID,
			Body: []byte(`{"userId":"u1","email":"a@b.co"}`)}, event: capture, method: "POST", path: "/v1/events", key: eventID.String()},
	}
}

// TestNewRequestGolden pins each kind of call's request: method, path,
// idempotency key, and the body, byte for byte (testdata/requests/*.json).
func TestNewRequestGolden(t *testing.T) {
	for _, c := range requestCases() {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewRequest(&c.call, c.event)
			if err != nil {
				t.Fatal(err)
			}
			if r.Method != c.method || r.Path != c.path || r.IdempotencyKey != c.key || r.Call != c.call.ID {
				t.Fatalf("request %s %s key %q call %s, want %s %s key %q call %s", r.Method, r.Path, r.IdempotencyKey, r.Call, c.method, c.path, c.key, c.call.ID)
			}
			if !json.Valid(r.Body) {
				t.Fatalf("body is not JSON: %s", r.Body)
			}
			file := filepath.Join("testdata", "requests", c.name+".json")
			if os.Getenv("UPDATE_GOLDEN") != "" {
				if err := os.WriteFile(file, append(r.Body, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if string(r.Body)+"\n" != string(want) {
				t.Fatalf("body\n%s\nwant\n%s", r.Body, want)
			}
		})
	}
}

// TestEventBodyFields decodes the event bodies and checks the fields the
// engine reads, so a golden file regenerated wrong cannot pass.
func TestEventBodyFields(t *testing.T) {
	cases := requestCases()
	decode := func(c requestCase) map[string]any {
		r, err := NewRequest(&c.call, c.event)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(r.Body, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	n := decode(cases[2])
	want := map[string]any{
		"name": "order.placed", "userId": "u1", "contactProperties": map[string]any{"plan": "pro"},
		"lists": map[string]any{"news": false}, "eventProperties": map[string]any{"plan": "pro", "n": 2.0},
		"value": 49.5, "currency": "EUR", "groups": map[string]any{"company": "acme"}, "timestamp": "2023-11-14T22:13:20.123Z",
	}
	if !reflect.DeepEqual(n, want) {
		t.Fatalf("native event body %v, want %v", n, want)
	}
	p := decode(cases[4])
	props := p["eventProperties"].(map[string]any)
	if props["_posthogEventId"] != eventID.String() || props["$current_url"] != "https://a.example/" ||
		!reflect.DeepEqual(p["contactProperties"], map[string]any{"plan": "pro"}) || p["email"] != "a@b.co" {
		t.Fatalf("posthog event body %v", p)
	}
	if _, ok := decode(cases[3])["groups"]; ok {
		t.Fatalf("an event without groups sends none")
	}
}

// TestNewRequestRefuses: a call whose event is missing, or of an unknown
// kind, is an error, never a request with half a body.
func TestNewRequestRefuses(t *testing.T) {
	if _, err := NewRequest(&canonical.EngineCall{ID: eventID, Kind: canonical.CallEvent}, nil); err == nil {
		t.Fatal("an event call without its event was built")
	}
	if _, err := NewRequest(&canonical.EngineCall{ID: callID, Kind: 9}, nil); err == nil {
		t.Fatal("a call of kind 9 was built")
	}
}

// FuzzNewRequest: whatever the stored members and properties (each a JSON
// object, as ingestion writes them), the body is one valid JSON object.
func FuzzNewRequest(f *testing.F) {
	f.Add([]byte(`{"userId":"u"}`), []byte(`{"a":1}`), "x", true, 1.5)
	f.Add([]byte(`{}`), []byte(` { } `), "", false, 0.0)
	f.Add([]byte(`{"email":"a@b.co","contactProperties":{"k":null}}`), []byte(`{"$set":{"p":[1,{"q":"\u00e9"}]}}`), "posthog", false, -3e21)
	f.Fuzz(func(t *testing.T, members, props []byte, source string, hasValue bool, value float64) {
		if !isObject(members) || !isObject(props) || value != value || value > 1e300 || value < -1e300 {
			return
		}
		ev := &canonical.Event{ID: eventID, Name: "e", Properties: props, Groups: []byte(`{}`), Source: source,
			HasValue: hasValue, Value: value, Currency: "USD", OccurredAt: 1}
		r, err := NewRequest(&canonical.EngineCall{ID: eventID, Kind: canonical.CallEvent, Body: members}, ev)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(r.Body, &m); err != nil {
			t.Fatalf("body %q: %v", r.Body, err)
		}
		if m["name"] != "e" || m["timestamp"] != "1970-01-01T00:00:00.001Z" {
			t.Fatalf("body %s lost the event's fields", r.Body)
		}
	})
}

func isObject(b []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(b, &m) == nil && m != nil
}
