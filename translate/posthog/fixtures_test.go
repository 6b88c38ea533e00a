package posthog

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// dumpLine is one request of requests_dump.jsonl (docs/contracts/posthog-capture.md §8.1).
type dumpLine struct {
	Path                string `json:"path"`
	ContentType         string `json:"content_type"`
	ContentEncoding     string `json:"content_encoding"`
	Now                 string `json:"now"`
	Body                string `json:"body"`
	HistoricalMigration bool   `json:"historical_migration"`
	Output              []struct {
		UUID       string `json:"uuid"`
		DistinctID string `json:"distinct_id"`
		Data       string `json:"data"`
		Now        string `json:"now"`
		SentAt     string `json:"sent_at"`
		Token      string `json:"token"`
	} `json:"output"`
}

func requestInput(t testing.TB, pathAndQuery, contentType, contentEncoding string, body []byte) RequestInput {
	t.Helper()
	path, query, _ := strings.Cut(pathAndQuery, "?")
	return RequestInput{Path: path, Query: []byte(query), ContentType: contentType, ContentEncoding: contentEncoding, Body: body}
}

// dumpRequest is one request line of requests_dump.jsonl, decoded.
type dumpRequest struct {
	n    int // line number
	line dumpLine
	in   RequestInput
	text []byte // DecodeRequest's output
}

// dumpRequests reads and decodes every request of requests_dump.jsonl.
func dumpRequests(t *testing.T) []dumpRequest {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(readFixture(t, "requests_dump.jsonl")))
	sc.Buffer(nil, 1<<20)
	var out []dumpRequest
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		if strings.TrimSpace(raw) == "" || strings.HasPrefix(raw, "#") {
			continue
		}
		r := dumpRequest{n: n}
		if err := json.Unmarshal([]byte(raw), &r.line); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		body, err := base64.StdEncoding.DecodeString(r.line.Body)
		if err != nil {
			t.Fatalf("line %d: body: %v", n, err)
		}
		r.in = requestInput(t, r.line.Path, r.line.ContentType, r.line.ContentEncoding, body)
		if r.text, err = DecodeRequest(r.in, Limits{}); err != nil {
			t.Fatalf("line %d (%s): decode: %v", n, r.line.Path, err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRequestsDump replays every recorded request of requests_dump.jsonl and
// compares the events with the Kafka output Django produced for it, following
// docs/contracts/posthog-capture.md §8.1: uuid, distinct_id, token, sent_at, historical_migration and the
// event JSON (without posthog-node's type/library/library_version), plus the
// event time computed with now pinned to the line's now.
func TestRequestsDump(t *testing.T) {
	lines, events := 0, 0
	for _, r := range dumpRequests(t) {
		n, line, in, text := r.n, r.line, r.in, r.text
		p, err := ParsePayload(text, in.Path)
		if err != nil {
			t.Fatalf("line %d (%s): parse: %v", n, line.Path, err)
		}
		if len(p.Events) != len(line.Output) {
			t.Fatalf("line %d: %d events, want %d", n, len(p.Events), len(line.Output))
		}
		if p.HistoricalMigration != line.HistoricalMigration {
			t.Fatalf("line %d: historical_migration %v, want %v", n, p.HistoricalMigration, line.HistoricalMigration)
		}
		now := mustTime(t, line.Now)
		sentAt, hasSentAt := ResolveSentAt(p.SentAt, in.Query)
		for i, out := range line.Output {
			ev := &p.Events[i]
			at := fmt.Sprintf("line %d event %d (%s)", n, i, ev.Name)
			if ev.UUID.String() != out.UUID || ev.UUIDGenerated {
				t.Fatalf("%s: uuid %s (generated %v), want %s", at, ev.UUID, ev.UUIDGenerated, out.UUID)
			}
			if ev.DistinctID != out.DistinctID {
				t.Fatalf("%s: distinct_id %q, want %q", at, ev.DistinctID, out.DistinctID)
			}
			if p.Token != out.Token {
				t.Fatalf("%s: token %q, want %q", at, p.Token, out.Token)
			}
			if out.Now != line.Now {
				t.Fatalf("%s: output now %q differs from line now %q", at, out.Now, line.Now)
			}
			switch {
			case out.SentAt == "" && hasSentAt:
				t.Fatalf("%s: sent_at %s, want none", at, sentAt)
			case out.SentAt != "" && (!hasSentAt || !sentAt.Equal(mustTime(t, out.SentAt))):
				t.Fatalf("%s: sent_at %s (%v), want %s", at, sentAt, hasSentAt, out.SentAt)
			}

			var want, got map[string]any
			if err := json.Unmarshal([]byte(out.Data), &want); err != nil {
				t.Fatalf("%s: output data: %v", at, err)
			}
			if err := json.Unmarshal([]byte(ev.Raw.Raw), &got); err != nil {
				t.Fatalf("%s: raw event: %v", at, err)
			}
			for _, k := range []string{"type", "library", "library_version"} {
				delete(want, k)
				delete(got, k)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: event differs from the recorded output\n got %s\nwant %s", at, ev.Raw.Raw, out.Data)
			}
			if ev.Name != want["event"] {
				t.Fatalf("%s: name %q, want %q", at, ev.Name, want["event"])
			}
			wantProps, _ := want["properties"].(map[string]any)
			if c := countKeys(ev); c != len(wantProps) {
				t.Fatalf("%s: %d properties, want %d", at, c, len(wantProps))
			}

			// The event time, computed independently from the recorded data.
			var wantTime time.Time
			switch off, ts := want["offset"], want["timestamp"]; {
			case off != nil:
				wantTime = now.Add(-time.Duration(off.(float64)) * time.Millisecond)
			case ts != nil && out.SentAt != "":
				wantTime = mustTime(t, ts.(string)).Add(now.Sub(mustTime(t, out.SentAt)))
			case ts != nil:
				wantTime = mustTime(t, ts.(string))
			default:
				wantTime = now
			}
			if got := EventTime(ev, sentAt, now); !got.Equal(wantTime) {
				t.Fatalf("%s: event time %s, want %s", at, got.Format(time.RFC3339Nano), wantTime.Format(time.RFC3339Nano))
			}
			events++
		}
		lines++
	}
	if lines != 16 || events != 88 {
		t.Fatalf("replayed %d request lines and %d events, want 16 and 88", lines, events)
	}
	t.Logf("requests_dump.jsonl: %d request lines, %d events matched", lines, events)
}

// TestRequestsDumpEventTimes pins a few event times by hand (docs/contracts/posthog-capture.md §5, §8.1).
func TestRequestsDumpEventTimes(t *testing.T) {
	text := readFixture(t, "requests_dump.jsonl")
	want := map[int]string{
		2:  "2023-09-15T09:15:02.328551Z", // timestamp .325 with _=…325, now .328551
		5:  "2023-09-15T09:15:02.332129Z", // now 09:15:05.358129 − offset 3026 ms
		18: "2024-04-17T14:40:56.918578Z", // timestamp = sent_at, so the time is now
		20: "2023-04-24T06:34:00Z",        // no sent_at: the raw timestamp
	}
	checked := 0
	for n, raw := range strings.Split(text, "\n") {
		w, ok := want[n+1]
		if !ok {
			continue
		}
		checked++
		var line dumpLine
		if err := json.Unmarshal([]byte(raw), &line); err != nil {
			t.Fatal(err)
		}
		body, _ := base64.StdEncoding.DecodeString(line.Body)
		in := requestInput(t, line.Path, line.ContentType, line.ContentEncoding, body)
		dec, err := DecodeRequest(in, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParsePayload(dec, in.Path)
		if err != nil {
			t.Fatal(err)
		}
		sentAt, _ := ResolveSentAt(p.SentAt, in.Query)
		if got := EventTime(&p.Events[0], sentAt, mustTime(t, line.Now)); !got.Equal(mustTime(t, w)) {
			t.Fatalf("line %d: event time %s, want %s", n+1, got.Format(time.RFC3339Nano), w)
		}
	}
	if checked != len(want) {
		t.Fatalf("checked %d lines, want %d", checked, len(want))
	}
}

func countKeys(ev *RawEvent) int {
	n := 0
	ev.Properties.ForEach(func(_, _ gjson.Result) bool { n++; return true })
	return n
}

// payloadFixture is one payload file and what upstream's tests expect of it
// (docs/contracts/posthog-capture.md §8.2).
type payloadFixture struct {
	file       string
	path       string // a path the payload is valid on
	names      []string
	distinctID string
	props      []int
	times      []string // event times with now = 2025-07-01T11:00:00Z and _ = now
}

var payloadFixtures = []payloadFixture{
	{"single_event_payload.json", "/e/", []string{"$autocapture"}, "019833ae-4913-7179-b6bc-019570abb1c9", []int{68},
		[]string{"2025-07-01T10:59:59.692Z"}}, // offset 308 wins over the timestamp
	{"batch_events_payload.json", "/batch/", []string{"$pageview", "$pageleave"}, "someone@example.com", []int{64, 72},
		[]string{"2025-07-01T02:55:00Z", "2025-07-01T03:00:00Z"}},
	{"single_engage_event_payload.json", "/engage/", []string{"$identify"}, "known_user@example.com", []int{2},
		[]string{"2025-07-01T11:00:00Z"}},
	{"single_engage_event_payload.alt.json", "/engage/", []string{"$identify"}, "01983d85-e613-7067-a70e-21bb63f8b8ee", []int{1},
		[]string{"2025-07-01T11:00:00Z"}},
}

// TestPayloadFixturesEveryEncoding sends each payload fixture in every wire
// form upstream's tests use (docs/contracts/posthog-capture.md §8.2) and checks the events.
func TestPayloadFixturesEveryEncoding(t *testing.T) {
	now := mustTime(t, "2025-07-01T11:00:00Z")
	ms := fmt.Sprint(now.UnixMilli())
	const form = "application/x-www-form-urlencoded"
	for _, fx := range payloadFixtures {
		js := readFixture(t, fx.file)
		b64 := base64.StdEncoding.EncodeToString([]byte(js))
		lz := lzCompressToBase64(js)
		encodings := []struct {
			name string
			in   RequestInput
		}{
			{"plain json", requestInput(t, fx.path+"?_="+ms, "application/json", "", []byte(js))},
			{"base64", requestInput(t, fx.path+"?_="+ms, "text/plain", "", []byte(b64))},
			{"base64 hint", requestInput(t, fx.path+"?compression=base64&_="+ms, "text/plain", "", []byte(b64))},
			{"gzip no hint", requestInput(t, fx.path+"?_="+ms, "text/plain", "", gzipBytes(t, []byte(js)))},
			{"gzip hint", requestInput(t, fx.path+"?compression=gzip&_="+ms, "application/json", "", gzipBytes(t, []byte(js)))},
			{"gzip content-encoding", requestInput(t, fx.path+"?_="+ms, "application/json", "gzip", gzipBytes(t, []byte(js)))},
			{"lz64 content-encoding", requestInput(t, fx.path+"?_="+ms, "text/plain", "lz64", []byte(lz))},
			{"form json", requestInput(t, fx.path+"?_="+ms, form, "", []byte("data="+url.QueryEscape(js)+"&ver=1.2.3"))},
			{"form base64", requestInput(t, fx.path+"?_="+ms, form, "", []byte("data="+url.QueryEscape(b64)+"&ver=1.2.3"))},
			{"form lz64", requestInput(t, fx.path+"?_="+ms, form, "", []byte("data="+url.QueryEscape(lz)+"&ver=1.2.3&compression=lz64"))},
			{"get json", requestInput(t, fx.path+"?data="+url.QueryEscape(js)+"&_="+ms, "", "", nil)},
			{"get base64", requestInput(t, fx.path+"?data="+url.QueryEscape(b64)+"&_="+ms, "", "", nil)},
			{"get base64 url-safe unpadded", requestInput(t, fx.path+"?data="+base64.RawURLEncoding.EncodeToString([]byte(js))+"&_="+ms, "", "", nil)},
			{"get lz64", requestInput(t, fx.path+"?data="+url.QueryEscape(lz)+"&compression=lz64&_="+ms, "", "", nil)},
		}
		for _, enc := range encodings {
			at := fx.file + " as " + enc.name
			text, err := DecodeRequest(enc.in, Limits{})
			if err != nil {
				t.Fatalf("%s: decode: %v", at, err)
			}
			p, err := ParsePayload(text, enc.in.Path)
			if err != nil {
				t.Fatalf("%s: parse: %v", at, err)
			}
			if len(p.Events) != len(fx.names) || p.Token == "" || p.HistoricalMigration {
				t.Fatalf("%s: %d events, token %q, historical %v", at, len(p.Events), p.Token, p.HistoricalMigration)
			}
			sentAt, ok := ResolveSentAt(p.SentAt, enc.in.Query)
			if !ok || !sentAt.Equal(now) {
				t.Fatalf("%s: sent_at %s, want the query's _", at, sentAt)
			}
			for i := range p.Events {
				ev := &p.Events[i]
				if ev.Name != fx.names[i] || ev.DistinctID != fx.distinctID || countKeys(ev) != fx.props[i] || len(ev.UUID.String()) != 36 {
					t.Fatalf("%s: event %d: %s %q with %d properties, uuid %s", at, i, ev.Name, ev.DistinctID, countKeys(ev), ev.UUID)
				}
				if got := EventTime(ev, sentAt, now); !got.Equal(mustTime(t, fx.times[i])) {
					t.Fatalf("%s: event %d time %s, want %s", at, i, got.Format(time.RFC3339Nano), fx.times[i])
				}
			}
			if fx.file == "batch_events_payload.json" {
				if n := len(p.Events[0].Prop("$set_once").Map()); n != 58 {
					t.Fatalf("%s: $set_once has %d keys, want 58", at, n)
				}
			}
		}
	}
}

// The engage body is refused on any other path (docs/contracts/posthog-capture.md §3.1).
func TestEngageFixtureOffEngage(t *testing.T) {
	js := readFixture(t, "single_engage_event_payload.json")
	for _, path := range []string{"/e/", "/i/v0/e/", "/batch/", "/capture/"} {
		text, err := DecodeRequest(RequestInput{Path: path, ContentType: "application/json", Body: []byte(js)}, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParsePayload(text, path); !errors.Is(err, ErrMissingEventName) ||
			err.Error() != "non-engage request missing event name attribute" {
			t.Fatalf("%s: err %v, want the non-engage error", path, err)
		}
	}
}

// TestInvalidSurrogateFixtures: the lone \ud83c escapes are repaired to
// \ufffd while decoding, so the text is strict JSON and reads as an event.
func TestInvalidSurrogateFixtures(t *testing.T) {
	for _, file := range []string{"invalid_surrogate.json", "invalid_surrogate.alt.json"} {
		js := readFixture(t, file)
		if !strings.Contains(js, `\ud83c`) {
			t.Fatalf("%s: no lone surrogate escape in the fixture", file)
		}
		for _, body := range [][]byte{[]byte(js), gzipBytes(t, []byte(js)), []byte(lzCompressToBase64(js))} {
			ce := ""
			if body[0] != '{' && body[0] != 0x1f {
				ce = "lz64"
			}
			text, err := DecodeRequest(RequestInput{Path: "/s/", ContentEncoding: ce, Body: body}, Limits{})
			if err != nil {
				t.Fatalf("%s: decode: %v", file, err)
			}
			if strings.Contains(string(text), `\ud83c`) || !strings.Contains(string(text), `\ufffd`) {
				t.Fatalf("%s: lone surrogate not repaired", file)
			}
			if len(text) != len(js) {
				t.Fatalf("%s: repair changed the length: %d, want %d", file, len(text), len(js))
			}
			// encoding/json would accept the raw text too; check the repaired one
			// decodes to U+FFFD and not to a surrogate half.
			var v struct {
				Event      string `json:"event"`
				Properties struct {
					SnapshotData []struct {
						Data struct {
							Payload struct {
								Payload []string `json:"payload"`
							} `json:"payload"`
						} `json:"data"`
					} `json:"$snapshot_data"`
				} `json:"properties"`
			}
			if err := json.Unmarshal(text, &v); err != nil || v.Event != "$snapshot" {
				t.Fatalf("%s: %v, event %q", file, err, v.Event)
			}
			if s := v.Properties.SnapshotData[0].Data.Payload.Payload[0]; !strings.Contains(s, "\uFFFD...[truncated]") {
				t.Fatalf("%s: payload string %q", file, s)
			}
			// The file has neither token nor distinct_id: the typed errors, in order.
			if _, err := ParsePayload(text, "/s/"); !errors.Is(err, ErrNoToken) {
				t.Fatalf("%s: err %v, want ErrNoToken", file, err)
			}
			withIDs := strings.Replace(string(text), "{", `{"api_key":"phc_x","distinct_id":"d1",`, 1)
			p, err := ParsePayload([]byte(withIDs), "/s/")
			if err != nil || len(p.Events) != 1 || p.Events[0].Name != "$snapshot" {
				t.Fatalf("%s with ids: %v", file, err)
			}
			if s := p.Events[0].Prop("$snapshot_data").Get("0.data.payload.payload.0").Str; !strings.Contains(s, "\uFFFD") {
				t.Fatalf("%s: gjson reads %q", file, s)
			}
		}
	}
}
