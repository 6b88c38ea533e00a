package ingest

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

type dumpLine struct {
	Path            string `json:"path"`
	ContentType     string `json:"content_type"`
	ContentEncoding string `json:"content_encoding"`
	IP              string `json:"ip"`
	Now             string `json:"now"`
	Body            string `json:"body"`
	Output          []struct {
		UUID       string `json:"uuid"`
		DistinctID string `json:"distinct_id"`
		IP         string `json:"ip"`
		Data       string `json:"data"`
		SentAt     string `json:"sent_at"`
		Token      string `json:"token"`
	} `json:"output"`
	HistoricalMigration bool `json:"historical_migration"`
}

// readDump reads the recorded PostHog traffic from the shared fixtures.
func readDump(t *testing.T) []dumpLine {
	t.Helper()
	path := filepath.Join("..", "..", "..", "shared", "fixtures", "posthog", "requests_dump.jsonl")
	f, err := os.Open(path)
	if err != nil {
		testenv.Unavailable(t, "fixture missing: %v", err)
	}
	defer f.Close()
	var out []dumpLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var d dumpLine
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("dump line: %v", err)
		}
		out = append(out, d)
	}
	return out
}

func replay(t *testing.T, in *Ingestor, d dumpLine) CaptureResult {
	t.Helper()
	now, err := time.Parse(time.RFC3339Nano, d.Now)
	if err != nil {
		t.Fatal(err)
	}
	in.now = func() time.Time { return now }
	body, err := base64.StdEncoding.DecodeString(d.Body)
	if err != nil {
		t.Fatal(err)
	}
	path, query, _ := strings.Cut(d.Path, "?")
	res, err := in.Capture(context.Background(), CaptureRequest{
		Path: strings.TrimSuffix(path, "/"), Query: []byte(query), ContentType: d.ContentType,
		ContentEncoding: d.ContentEncoding, Body: body, IP: d.IP,
	}, CaptureOptions{})
	if err != nil {
		t.Fatalf("capture %s: %v", d.Path, err)
	}
	return res
}

// expectedTime applies PostHog's clock-skew rules to the recorded event,
// independently of the decoder: offset wins; else timestamp corrected by
// sent_at − now; else the raw timestamp.
func expectedTime(t *testing.T, data map[string]any, sentAt string, now time.Time) time.Time {
	if off, ok := data["offset"]; ok {
		ms, _ := off.(json.Number).Int64()
		return now.Add(-time.Duration(ms) * time.Millisecond)
	}
	ts, err := time.Parse(time.RFC3339Nano, data["timestamp"].(string))
	if err != nil {
		t.Fatalf("timestamp %v: %v", data["timestamp"], err)
	}
	if sentAt == "" {
		return ts
	}
	sent, err := time.Parse(time.RFC3339Nano, sentAt)
	if err != nil {
		t.Fatalf("sent_at %q: %v", sentAt, err)
	}
	return ts.Add(-sent.Sub(now))
}

// TestCaptureReplaysRecordedTraffic replays every request of the recorded
// PostHog SDK traffic with the clock pinned to its receive time and compares
// the stored events with the recorded output: names, distinct ids, uuids,
// IPs, properties and corrected timestamps.
func TestCaptureReplaysRecordedTraffic(t *testing.T) {
	lines := readDump(t)
	events := 0
	for i, d := range lines {
		j := &flakyJournal{}
		in := New(identity.NewMemory(), j, Options{IdempotencyWindow: time.Hour})
		res := replay(t, in, d)
		in.Close()
		var got []canonical.Event
		for _, b := range j.batches {
			got = append(got, b.Events...)
		}
		if res.Stored != len(d.Output) || len(got) != len(d.Output) {
			t.Fatalf("line %d (%s): stored %d events, recorded %d", i, d.Path, len(got), len(d.Output))
		}
		now, _ := time.Parse(time.RFC3339Nano, d.Now)
		for k, want := range d.Output {
			e := got[k]
			dec := json.NewDecoder(strings.NewReader(want.Data))
			dec.UseNumber()
			var data map[string]any
			if err := dec.Decode(&data); err != nil {
				t.Fatal(err)
			}
			if e.ID.String() != want.UUID || e.DistinctID != want.DistinctID || e.Name != data["event"] || e.IP != want.IP || e.Source != "posthog" {
				t.Fatalf("line %d event %d = {%s %q %q %q}, want {%s %q %q %q}", i, k, e.ID, e.DistinctID, e.Name, e.IP, want.UUID, want.DistinctID, data["event"], want.IP)
			}
			if e.Historical != d.HistoricalMigration {
				t.Fatalf("line %d: historical = %v", i, e.Historical)
			}
			var gotProps, wantProps any
			wp, err := json.Marshal(data["properties"])
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(e.Properties, &gotProps); err != nil {
				t.Fatalf("line %d event %d stored properties %s: %v", i, k, e.Properties, err)
			}
			if err := json.Unmarshal(wp, &wantProps); err != nil {
				t.Fatal(err)
			}
			if gotProps == nil || !reflect.DeepEqual(gotProps, wantProps) {
				t.Fatalf("line %d event %d properties differ:\n got %s\nwant %s", i, k, e.Properties, wp)
			}
			wantAt := expectedTime(t, data, want.SentAt, now).UnixMilli()
			if diff := e.OccurredAt - wantAt; diff < -1 || diff > 1 {
				t.Fatalf("line %d event %d occurred_at = %d, want %d (±1 ms)", i, k, e.OccurredAt, wantAt)
			}
			events++
		}
	}
	t.Logf("replayed %d requests, %d events matched", len(lines), events)
	if events != 88 {
		t.Fatalf("events matched = %d, want the 88 recorded", events)
	}
}

// TestCaptureDeduplicatesOnUUID: the dump resends two requests whose events
// carry uuids already stored; replayed into one store they are not stored twice.
func TestCaptureDeduplicatesOnUUID(t *testing.T) {
	lines := readDump(t)
	j := &flakyJournal{}
	in := New(identity.NewMemory(), j, Options{IdempotencyWindow: time.Hour})
	defer in.Close()
	stored, dups := 0, 0
	for _, d := range lines {
		res := replay(t, in, d)
		stored += res.Stored
		dups += res.Duplicates
	}
	seen := map[string]bool{}
	for _, b := range j.batches {
		for _, e := range b.Events {
			if seen[e.ID.String()] {
				t.Fatalf("uuid %s stored twice", e.ID)
			}
			seen[e.ID.String()] = true
		}
	}
	if dups != 6 || stored != 82 || len(seen) != 82 {
		t.Fatalf("stored %d (%d unique), duplicates %d; want 82 stored and the 6 resent events refused", stored, len(seen), dups)
	}
}

// FuzzCapture: any capture request body either fails with a typed error or
// stores events whose properties and groups are valid JSON; never a panic.
func FuzzCapture(f *testing.F) {
	f.Add([]byte(`{"api_key":"phc_x","batch":[{"event":"e","distinct_id":"d","properties":{"$set":{"email":"a@b.co"}}}]}`), "/batch")
	f.Add([]byte(`{"api_key":"phc_x","event":"$identify","distinct_id":"u","properties":{"$anon_distinct_id":"a"}}`), "/e")
	f.Add([]byte(`{"api_key":"phc_x","distinct_id":"u","$set":{"a":1}}`), "/engage")
	f.Add([]byte(`data=eyJldmVudCI6ImUifQ==`), "/e")
	f.Add([]byte(`{"api_key":"phc_x","event":"$merge_dangerously","distinct_id":"d","properties":{"alias":"v","$hogsend_user_token":"a.b","x":{"$hogsend_user_token":1}}}`), "/e")
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		j := &flakyJournal{}
		in := New(identity.NewMemory(), j, Options{IdempotencyWindow: time.Hour})
		defer in.Close()
		_, err := in.Capture(context.Background(), CaptureRequest{Path: path, Body: body, ContentType: "application/json"}, CaptureOptions{MaxDecoded: 1 << 20})
		if err != nil {
			return
		}
		for _, b := range j.batches {
			for _, e := range b.Events {
				if !json.Valid(e.Properties) || !json.Valid(e.Groups) {
					t.Fatalf("stored invalid JSON for %q", body)
				}
			}
		}
	})
}

// TestCaptureSharesResolvesWithinABatch: events of one person in one request
// resolve the person once and claim each uuid; an identify in between makes
// later events resolve again, so none lands on a merged-away contact.
func TestCaptureSharesResolvesWithinABatch(t *testing.T) {
	j := &flakyJournal{}
	in := New(identity.NewMemory(), j, Options{IdempotencyWindow: time.Hour})
	defer in.Close()
	body := `{"api_key":"phc_x","batch":[
		{"event":"a","distinct_id":"anon-1","uuid":"0193a1b2-0000-7000-8000-000000000001"},
		{"event":"b","distinct_id":"anon-1","uuid":"0193a1b2-0000-7000-8000-000000000002"},
		{"event":"$identify","distinct_id":"user-1","uuid":"0193a1b2-0000-7000-8000-000000000003","properties":{"$anon_distinct_id":"anon-1"}},
		{"event":"c","distinct_id":"anon-1","uuid":"0193a1b2-0000-7000-8000-000000000004"},
		{"event":"d","distinct_id":"user-1","uuid":"0193a1b2-0000-7000-8000-000000000005"}]}`
	res, err := in.Capture(context.Background(), CaptureRequest{Path: "/batch", Body: []byte(body), ContentType: "application/json"}, CaptureOptions{})
	if err != nil || res.Stored != 5 {
		t.Fatalf("capture = %+v, %v", res, err)
	}
	byName := map[string]canonical.Event{}
	for _, b := range j.batches {
		for _, e := range b.Events {
			byName[e.Name] = e
		}
	}
	if byName["a"].ContactID != byName["b"].ContactID {
		t.Fatalf("events of one person got different contacts")
	}
	survivor := byName["$identify"].ContactID
	if byName["c"].ContactID != survivor || byName["d"].ContactID != survivor {
		t.Fatalf("after identify: c=%s d=%s, want the survivor %s", byName["c"].ContactID, byName["d"].ContactID, survivor)
	}
	// The same request again: every uuid, shared resolve or not, is a duplicate.
	res, err = in.Capture(context.Background(), CaptureRequest{Path: "/batch", Body: []byte(body), ContentType: "application/json"}, CaptureOptions{})
	if err != nil || res.Stored != 0 || res.Duplicates != 5 {
		t.Fatalf("resent batch = %+v, %v; want 5 duplicates", res, err)
	}
}

func TestCaptureTokenAllowList(t *testing.T) {
	j := &flakyJournal{}
	in := New(identity.NewMemory(), j, Options{IdempotencyWindow: time.Hour})
	defer in.Close()
	opts := CaptureOptions{Tokens: map[string]bool{"phc_allowed": true}}
	send := func(token string) error {
		_, err := in.Capture(context.Background(), CaptureRequest{Path: "/e", ContentType: "application/json",
			Body: []byte(`{"api_key":"` + token + `","event":"e","distinct_id":"d"}`)}, opts)
		return err
	}
	if err := send("phc_other"); !errors.Is(err, ErrUnknownToken) {
		t.Fatalf("unlisted token = %v, want ErrUnknownToken", err)
	}
	if err := send("phc_allowed"); err != nil {
		t.Fatalf("listed token = %v", err)
	}
	if n := len(j.batches); n != 1 {
		t.Fatalf("batches = %d, want only the allowed request stored", n)
	}
}

// TestClaimKeys: every key made in one buffer keeps its text while the
// buffer grows past its capacity.
func TestClaimKeys(t *testing.T) {
	keys := claimKeys{buf: make([]byte, 0, 2*claimKeyLen)}
	ids := make([]uuid.UUID, 100)
	got := make([]string, len(ids))
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7())
		got[i] = keys.of(ids[i])
	}
	for i, id := range ids {
		if want := "ph:" + id.String(); got[i] != want {
			t.Fatalf("key %d = %q, want %q", i, got[i], want)
		}
	}
}

// TestCaptureKeepsProjectToken: each stored capture event keeps its
// project token for the PostHog mirror; a secret capture token, the
// proxy's own, is never kept.
func TestCaptureKeepsProjectToken(t *testing.T) {
	j := &flakyJournal{}
	in := newTestIngestor(j)
	defer in.Close()
	opts := CaptureOptions{Trust: CaptureTrust{SecretTokens: []string{"phs_secret_server_token"}}}
	for _, token := range []string{"phc_project", "phs_secret_server_token"} {
		body := `{"api_key":"` + token + `","batch":[{"event":"e","distinct_id":"d1","properties":{}}]}`
		if _, err := in.Capture(context.Background(), CaptureRequest{Path: "/batch", Body: []byte(body), ContentType: "application/json"}, opts); err != nil {
			t.Fatal(err)
		}
	}
	if len(j.batches) != 2 || j.batches[0].Events[0].Token != "phc_project" || j.batches[1].Events[0].Token != "" ||
		!j.batches[1].Events[0].SecretToken {
		t.Fatalf("stored tokens: %+v", j.batches)
	}
}

// TestCaptureKeepsTopLevelSet: posthog-js puts $set and $set_once at the
// top of an $identify; the spool keeps them for the mirror, apart from the
// stored properties.
func TestCaptureKeepsTopLevelSet(t *testing.T) {
	j := &flakyJournal{}
	in := newTestIngestor(j)
	defer in.Close()
	body := `{"api_key":"phc_p","batch":[
{"event":"$identify","properties":{"distinct_id":"u1","$anon_distinct_id":"a1"},"$set":{"email":"u1@b.co"},"$set_once":{"$initial_gclid":null}},
{"event":"e","properties":{"distinct_id":"u1"}}]}`
	if _, err := in.Capture(context.Background(), CaptureRequest{Path: "/batch", Body: []byte(body), ContentType: "application/json"}, CaptureOptions{}); err != nil {
		t.Fatal(err)
	}
	evs := j.batches[0].Events
	if len(evs) != 2 || string(evs[0].TopLevel) != `{"$set":{"email":"u1@b.co"},"$set_once":{"$initial_gclid":null}}` || evs[1].TopLevel != nil {
		t.Fatalf("top levels: %q, %q", evs[0].TopLevel, evs[1].TopLevel)
	}
	if strings.Contains(string(evs[0].Properties), "u1@b.co") {
		t.Fatalf("the top-level $set leaked into the stored properties: %s", evs[0].Properties)
	}
}
