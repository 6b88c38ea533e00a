package posthog

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// TestCaptureEventGolden pins the event a mirrored capture becomes.
func TestCaptureEventGolden(t *testing.T) {
	ev := &canonical.Event{ID: uuid.MustParse("018f0000-0000-7000-8000-0000000000e1"), Name: "$identify", DistinctID: "u1",
		Properties: []byte(`{"$ip":"6.6.6.6","$anon_distinct_id":"a1","n":[1,{"x":null}]}`), IP: "203.0.113.9",
		OccurredAt: 1700000000123, TopLevel: []byte(`{"$set":{"email":"u1@b.co"},"$set_once":{"$initial_gclid":null}}`)}
	got := captureEvent(ev, "phc_p")
	want := `{"uuid":"018f0000-0000-7000-8000-0000000000e1","event":"$identify","distinct_id":"u1","timestamp":"2023-11-14T22:13:20.123Z",` +
		`"$set":{"email":"u1@b.co"},"$set_once":{"$initial_gclid":null},"properties":{"$ip":"203.0.113.9","$anon_distinct_id":"a1","n":[1,{"x":null}]}}`
	if string(got.JSON) != want || got.Token != "phc_p" || got.UUID != ev.ID.String() {
		t.Fatalf("event\n%s\nwant\n%s", got.JSON, want)
	}
	ev.IP, ev.TopLevel = "", nil
	if got := captureEvent(ev, "phc_p"); !bytes.Contains(got.JSON, []byte(`"properties":{"$ip":"6.6.6.6",`)) {
		t.Fatalf("without a stored address the client's $ip stays: %s", got.JSON)
	}
}

// TestBatchBody: one gzip JSON object with the token, the import flag and
// the events.
func TestBatchBody(t *testing.T) {
	events := []Event{{JSON: []byte(`{"uuid":"a"}`)}, {JSON: []byte(`{"uuid":"b"}`)}}
	gz, err := (&gzipPool{}).body("phc_p", true, events)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	if string(raw) != `{"api_key":"phc_p","historical_migration":true,"batch":[{"uuid":"a"},{"uuid":"b"}]}` {
		t.Fatalf("body %s", raw)
	}
}

// FuzzCaptureEvent: whatever the stored properties (a JSON object) and
// address, the event is valid JSON with $ip the stored address.
func FuzzCaptureEvent(f *testing.F) {
	f.Add([]byte(`{"a":1}`), "1.2.3.4", "e")
	f.Add([]byte(`{}`), "", "$pageview")
	f.Add([]byte(`{"$ip":"x","$ip":"y","\u0000":"\ud800"}`), "::1", "\"quoted\"")
	f.Add([]byte(` { } `), "0", "0")
	f.Add([]byte(`{ "a" : 1 }`), "1.2.3.4", "e")
	f.Fuzz(func(t *testing.T, props []byte, ip, name string) {
		var obj map[string]json.RawMessage
		if json.Unmarshal(props, &obj) != nil || obj == nil || !utf8.ValidString(ip) {
			return // addresses are parsed ones: ASCII
		}
		ev := &canonical.Event{ID: uuid.MustParse("018f0000-0000-7000-8000-0000000000e1"), Name: name, DistinctID: "d",
			Properties: props, IP: ip, OccurredAt: 1}
		var out struct {
			Properties map[string]any `json:"properties"`
		}
		got := captureEvent(ev, "t")
		if err := json.Unmarshal(got.JSON, &out); err != nil {
			t.Fatalf("%s: %v", got.JSON, err)
		}
		if ip != "" && out.Properties["$ip"] != ip {
			t.Fatalf("$ip %v, want %q", out.Properties["$ip"], ip)
		}
	})
}
