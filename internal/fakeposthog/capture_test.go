package fakeposthog

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// jsEvent is a posthog-js event: distinct id and token inside properties,
// offset instead of a timestamp when it was queued.
func jsEvent(n int) map[string]any {
	return map[string]any{"event": "$pageview", "uuid": uuidN(n), "offset": 1200,
		"properties": map[string]any{"distinct_id": "anon-1", "token": token, "$current_url": "https://shop.example/"}}
}

func TestCaptureAcceptsWhatSDKsSend(t *testing.T) {
	one := func(t *testing.T) []byte { return nodeBatch(t, 1, 2) }
	f := func(name string, build func(t *testing.T) wire, wantEncoding string) {
		t.Run(name, func(t *testing.T) {
			s := start(t, Options{})
			w := build(t)
			got := send(t, s, w)
			if got.status != http.StatusOK || got.body != `{"status":"Ok"}` {
				t.Fatalf("answer %d %q, want 200 {\"status\":\"Ok\"}", got.status, got.body)
			}
			if s.Count() != 1 {
				t.Fatalf("count %d, want 1", s.Count())
			}
			if b := s.Batches(); b.Accepted != 1 || b.ByEncoding[wantEncoding] != 1 {
				t.Fatalf("batches %+v, want one %s", b, wantEncoding)
			}
		})
	}
	f("node gzip by content-encoding", func(t *testing.T) wire {
		return wire{path: "/batch/", body: gz(t, one(t)), header: map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}}
	}, EncodingGzip)
	f("go gzip by query and header", func(t *testing.T) wire {
		return wire{path: "/batch/?compression=gzip", body: gz(t, one(t)), header: map[string]string{"Content-Encoding": "gzip"}}
	}, EncodingGzip)
	f("js gzip as text/plain without a hint", func(t *testing.T) wire {
		return wire{path: "/i/v0/e/", body: gz(t, one(t)), header: map[string]string{"Content-Type": "text/plain"}}
	}, EncodingGzip)
	f("gzip-js hint", func(t *testing.T) wire {
		return wire{path: "/e/?compression=gzip-js", body: gz(t, one(t))}
	}, EncodingGzip)
	f("plain json, no trailing slash", func(t *testing.T) wire {
		return wire{path: "/batch", body: one(t), header: map[string]string{"Content-Type": "application/json"}}
	}, EncodingJSON)
	f("js beacon base64 form", func(t *testing.T) wire {
		return wire{path: "/e/?compression=base64", body: form(one(t)), header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}
	}, EncodingFormBase64)
	f("base64 form without a hint", func(t *testing.T) wire {
		return wire{path: "/e/", body: form(one(t)), header: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}}
	}, EncodingFormBase64)
	f("json form", func(t *testing.T) wire {
		return wire{path: "/capture/", body: []byte("data=" + url.QueryEscape(string(one(t)))), header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}
	}, EncodingForm)
	f("whole body base64", func(t *testing.T) wire {
		return wire{path: "/track", body: []byte(b64(one(t)))}
	}, EncodingBase64)
	f("get with data", func(t *testing.T) wire {
		return wire{method: http.MethodGet, path: "/e/?data=" + url.QueryEscape(b64(one(t)))}
	}, EncodingQuery)
	f("single event with its token", func(t *testing.T) wire {
		e := nodeEvent(1)
		e["api_key"] = token
		return wire{path: "/i/v0/e", body: jsonOf(t, e)}
	}, EncodingJSON)
	f("array of js events", func(t *testing.T) wire {
		return wire{path: "/e/", body: gz(t, jsonOf(t, []any{jsEvent(1)}))}
	}, EncodingGzip)
	f("ai batch", func(t *testing.T) wire {
		return wire{path: "/i/v0/ai/batch/", body: gz(t, one(t)), header: map[string]string{"Content-Encoding": "gzip"}}
	}, EncodingGzip)
}

func TestCaptureKeepsWhatPostHogKeeps(t *testing.T) {
	s := start(t, Options{})
	js := jsEvent(2)
	body := jsonOf(t, map[string]any{"api_key": token, "historical_migration": true, "batch": []any{nodeEvent(1), js}})
	if got := send(t, s, wire{path: "/batch/", body: gz(t, body)}); got.status != 200 {
		t.Fatalf("status %d %s", got.status, got.body)
	}
	events := s.Events()
	if len(events) != 2 {
		t.Fatalf("%d events, want 2", len(events))
	}
	e := events[0]
	if e.UUID != uuidN(1) || e.Event != "signed_up" || e.DistinctID != "user-1" || e.Timestamp != "2026-12-06T10:00:00.123Z" ||
		e.IP != "203.0.113.9" || !e.Historical || e.Token != token || e.Path != "/batch/" || e.Properties["plan"] != "pro" {
		t.Fatalf("first event %+v", e)
	}
	j, ok := s.Event(uuidN(2))
	if !ok || j.DistinctID != "anon-1" || j.Timestamp != "" || j.Offset == nil || *j.Offset != 1200 || !j.Historical {
		t.Fatalf("posthog-js event %+v (found %v)", j, ok)
	}
}

func TestCaptureRefuses(t *testing.T) {
	f := func(name string, body []byte, header map[string]string, wantStatus int, wantText string) {
		t.Run(name, func(t *testing.T) {
			s := start(t, Options{})
			got := send(t, s, wire{path: "/batch/", body: body, header: header})
			if got.status != wantStatus || !strings.Contains(got.body, wantText) {
				t.Fatalf("answer %d %q, want %d containing %q", got.status, got.body, wantStatus, wantText)
			}
			if s.Count() != 0 || s.Batches().Refused != 1 {
				t.Fatalf("count %d, batches %+v after a refusal", s.Count(), s.Batches())
			}
		})
	}
	with := func(mutate func(e map[string]any)) []byte {
		e := nodeEvent(1)
		mutate(e)
		return jsonOf(t, map[string]any{"api_key": token, "batch": []any{nodeEvent(2), e}})
	}
	batchWith := func(mutate func(b map[string]any)) []byte {
		b := map[string]any{"api_key": token, "batch": []any{nodeEvent(1)}}
		mutate(b)
		return jsonOf(t, b)
	}
	f("wrong token", batchWith(func(b map[string]any) { b["api_key"] = "phc_other" }), nil, 401, "project API key invalid")
	f("no token", batchWith(func(b map[string]any) { delete(b, "api_key") }), nil, 401, "no token")
	f("personal key", batchWith(func(b map[string]any) { b["api_key"] = "phx_secret" }), nil, 401, "personal API key")
	f("token too long", batchWith(func(b map[string]any) { b["api_key"] = strings.Repeat("a", 65) }), nil, 401, "longer than 64")
	f("events disagree on the token", jsonOf(t, []any{
		map[string]any{"event": "a", "uuid": uuidN(1), "distinct_id": "x", "timestamp": "2026-12-06T10:00:00Z", "token": token},
		map[string]any{"event": "a", "uuid": uuidN(2), "distinct_id": "x", "timestamp": "2026-12-06T10:00:00Z", "properties": map[string]any{"token": "phc_other"}},
	}), nil, 401, "multiple tokens")
	f("invalid uuid", with(func(e map[string]any) { e["uuid"] = "not-a-uuid" }), nil, 400, "invalid_uuid")
	f("missing uuid", with(func(e map[string]any) { delete(e, "uuid") }), nil, 400, "missing uuid")
	f("empty uuid", with(func(e map[string]any) { e["uuid"] = "" }), nil, 400, "missing uuid")
	f("uuid a number", with(func(e map[string]any) { e["uuid"] = 7 }), nil, 400, "invalid_uuid")
	f("missing event name", with(func(e map[string]any) { delete(e, "event") }), nil, 400, "missing event name")
	f("empty event name", with(func(e map[string]any) { e["event"] = "" }), nil, 400, "missing event name")
	f("missing distinct_id", with(func(e map[string]any) { delete(e, "distinct_id") }), nil, 400, "missing distinct_id")
	f("null distinct_id", with(func(e map[string]any) { e["distinct_id"] = nil }), nil, 400, "missing distinct_id")
	f("timestamp not RFC 3339", with(func(e map[string]any) { e["timestamp"] = "06/12/2026 10:00" }), nil, 400, "not an RFC 3339 time")
	f("timestamp a number", with(func(e map[string]any) { e["timestamp"] = 1765015200000 }), nil, 400, "not an RFC 3339 time")
	f("no time at all", with(func(e map[string]any) { delete(e, "timestamp") }), nil, 400, "missing timestamp")
	f("offset not an integer", with(func(e map[string]any) { delete(e, "timestamp"); e["offset"] = 1.5 }), nil, 400, "offset")
	f("properties a list", with(func(e map[string]any) { e["properties"] = []any{1} }), nil, 400, "properties is not an object")
	f("cookieless mode not a bool", with(func(e map[string]any) { e["properties"] = map[string]any{"$cookieless_mode": "yes"} }), nil, 400, "$cookieless_mode")
	f("event not an object", jsonOf(t, map[string]any{"api_key": token, "batch": []any{"x"}}), nil, 400, "not an object")
	f("empty batch", batchWith(func(b map[string]any) { b["batch"] = []any{} }), nil, 400, "batch is empty")
	f("batch not a list", batchWith(func(b map[string]any) { b["batch"] = "x" }), nil, 400, "batch is not a list")
	f("historical_migration not a bool", batchWith(func(b map[string]any) { b["historical_migration"] = "yes" }), nil, 400, "historical_migration")
	f("sent_at not a time", batchWith(func(b map[string]any) { b["sent_at"] = "soon" }), nil, 400, "sent_at")
	f("object without an event", []byte(`{"api_key":"`+token+`","$set":{"a":1}}`), nil, 400, "missing event name attribute")
	f("invalid json", []byte(`{"batch":[`), nil, 400, "invalid JSON")
	f("empty body", nil, nil, 400, "missing data payload")
	f("gzip hint on plain text", []byte(`{"batch":[]}`), map[string]string{"Content-Encoding": "gzip"}, 400, "invalid GZIP")
	f("truncated gzip", gz(t, nodeBatch(t, 1, 2))[:20], nil, 400, "invalid GZIP")
	f("lz64", []byte("data=abc&compression=lz64"), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 400, "lz64")
	f("form without data", []byte(`{"a":1}`), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 400, "form body")
	f("not UTF-8", []byte("\xff\xfe"), nil, 400, "UTF-8")
}

func TestCaptureBodyOverTheWireCapIs413(t *testing.T) {
	s := start(t, Options{NoRequestLog: true})
	got := send(t, s, wire{path: "/batch/", body: make([]byte, maxWireBody+1)})
	if got.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", got.status)
	}
}

func TestCaptureCountsEachUUIDOnce(t *testing.T) {
	s := start(t, Options{})
	for i := 0; i < 2; i++ {
		if got := send(t, s, wire{path: "/batch/", body: gz(t, nodeBatch(t, 0, 10))}); got.status != 200 {
			t.Fatalf("status %d", got.status)
		}
	}
	repeat := jsonOf(t, map[string]any{"api_key": token, "batch": []any{nodeEvent(10), nodeEvent(10)}})
	send(t, s, wire{path: "/batch/", body: repeat})
	if s.Count() != 11 || s.Duplicates() != 11 || len(s.Events()) != 11 {
		t.Fatalf("count %d duplicates %d events %d, want 11 11 11", s.Count(), s.Duplicates(), len(s.Events()))
	}
	for i, e := range s.Events() {
		if e.UUID != uuidN(i) {
			t.Fatalf("event %d is %s, want arrival order", i, e.UUID)
		}
	}
	if b := s.Batches(); b.Accepted != 3 || b.Events != 22 {
		t.Fatalf("batches %+v, want 3 accepted carrying 22 events", b)
	}
}

func TestCaptureConcurrentSendersCountOnce(t *testing.T) {
	s := start(t, Options{NoRequestLog: true})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				// Workers overlap: worker w sends events w*50 .. w*50+99.
				send(t, s, wire{path: "/batch/", body: gz(t, nodeBatch(t, w*50+i*10, w*50+i*10+10))})
			}
		}(w)
	}
	wg.Wait()
	if s.Count() != 450 || s.Duplicates() != 350 {
		t.Fatalf("count %d duplicates %d, want 450 350", s.Count(), s.Duplicates())
	}
}

func TestCaptureBeaconAndDroppedEvents(t *testing.T) {
	s := start(t, Options{})
	if got := send(t, s, wire{path: "/e/?beacon=1", body: nodeBatch(t, 1, 2)}); got.status != http.StatusNoContent || got.body != "" {
		t.Fatalf("beacon answer %d %q, want 204 empty", got.status, got.body)
	}
	perf := nodeEvent(2)
	perf["event"] = "$performance_event"
	if got := send(t, s, wire{path: "/batch/", body: jsonOf(t, map[string]any{"api_key": token, "batch": []any{perf}})}); got.status != 200 {
		t.Fatalf("performance-only batch answered %d", got.status)
	}
	if s.Count() != 1 {
		t.Fatalf("count %d, want 1: $performance_event is dropped", s.Count())
	}
}

func TestNoEventLogStillCounts(t *testing.T) {
	s := start(t, Options{NoRequestLog: true, NoEventLog: true})
	send(t, s, wire{path: "/batch/", body: gz(t, nodeBatch(t, 0, 5))})
	send(t, s, wire{path: "/batch/", body: gz(t, nodeBatch(t, 0, 5))})
	if s.Count() != 5 || s.Duplicates() != 5 || s.Events() != nil && len(s.Events()) != 0 || s.Requests() != nil {
		t.Fatalf("count %d dups %d events %d requests %d", s.Count(), s.Duplicates(), len(s.Events()), len(s.Requests()))
	}
	if !s.Seen(uuidN(3)) || s.Seen(uuidN(7)) {
		t.Fatal("Seen disagrees with what was sent")
	}
	if _, ok := s.Event(uuidN(3)); ok {
		t.Fatal("Event answered a body that was not kept")
	}
}

func TestAllowMissingUUIDGivesEachEventItsOwn(t *testing.T) {
	s := start(t, Options{AllowMissingUUID: true})
	e := nodeEvent(1)
	e["uuid"] = ""
	body := jsonOf(t, map[string]any{"api_key": token, "batch": []any{e}})
	send(t, s, wire{path: "/batch/", body: body})
	send(t, s, wire{path: "/batch/", body: body})
	events := s.Events()
	if len(events) != 2 || !events[0].GeneratedUUID || events[0].UUID == events[1].UUID || s.Duplicates() != 0 {
		t.Fatalf("events %+v duplicates %d", events, s.Duplicates())
	}
}

func TestDistinctIDText(t *testing.T) {
	f := func(raw, want string) {
		t.Helper()
		s := start(t, Options{})
		body := `{"api_key":"` + token + `","batch":[{"event":"e","uuid":"` + uuidN(1) + `","timestamp":"2026-12-06T10:00:00Z","distinct_id":` + raw + `}]}`
		if got := send(t, s, wire{path: "/batch/", body: []byte(body)}); got.status != 200 {
			t.Fatalf("%s: %d %s", raw, got.status, got.body)
		}
		if got := s.Events()[0].DistinctID; got != want {
			t.Fatalf("%s: distinct id %q, want %q", raw, got, want)
		}
	}
	f(`"user-1"`, "user-1")
	f(`23`, "23")
	f(`true`, "true")
	f(`{ "a" : [1, 2] }`, `{"a":[1,2]}`)
	f(`"a\u0000b"`, "a\uFFFDb")
	f(`"`+strings.Repeat("é", 250)+`"`, strings.Repeat("é", 200))
}
