package fakeposthog

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
)

// FuzzCapture runs capture decoding and checks over any request and asserts
// that whatever is accepted is what the fake promises tests it counts.
func FuzzCapture(f *testing.F) {
	batch := nodeBatch(f, 1, 3)
	js := jsonOf(f, []any{jsEvent(1)})
	f.Add(batch, "application/json", "", "")
	f.Add(gz(f, batch), "application/json", "gzip", "")
	f.Add(gz(f, js), "text/plain", "", "compression=gzip-js")
	f.Add(form(batch), "application/x-www-form-urlencoded", "", "compression=base64")
	f.Add([]byte(b64(batch)), "", "", "")
	f.Add([]byte(nil), "", "", "data="+url.QueryEscape(b64(js)))
	f.Add([]byte(`{"api_key":"`+token+`","batch":[{"event":"e","uuid":"`+uuidN(1)+`","distinct_id":{"a":[1]},"timestamp":"2026-12-06T10:00:00+01:00"}]}`), "", "", "")
	f.Add([]byte(`{"event":"e","uuid":"`+uuidN(1)+`","properties":{"distinct_id":7,"token":" `+token+` "},"offset":0}`), "", "", "")
	f.Add([]byte("data=%20%20&compression=lz64"), "application/x-www-form-urlencoded", "", "")
	f.Add([]byte{0x1f, 0x8b, 0x08, 0, 0}, "", "", "compression=gzip")
	f.Fuzz(func(t *testing.T, body []byte, contentType, contentEncoding, query string) {
		r := httptest.NewRequest("POST", "/batch/?"+url.PathEscape(query), nil)
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", contentType)
		r.Header.Set("Content-Encoding", contentEncoding)
		d, err := decodePayload(r, body)
		if err != nil {
			return
		}
		if !utf8.Valid(d.json) {
			t.Fatalf("decoded payload is not UTF-8: %q", d.json)
		}
		b, rerr := checkPayload(d.json, checkRules{token: token})
		if rerr != nil {
			if rerr.status != 400 && rerr.status != 401 {
				t.Fatalf("refusal status %d", rerr.status)
			}
			return
		}
		for _, e := range b.events {
			assertAccepted(t, e)
		}
	})
}

func assertAccepted(t *testing.T, e stored) {
	t.Helper()
	if _, err := uuid.Parse(e.uuid); err != nil || e.event == "" || e.distinctID == "" || e.token != token {
		t.Fatalf("accepted event %+v", e)
	}
	if utf8.RuneCountInString(e.distinctID) > maxDistinctID {
		t.Fatalf("distinct id of %d characters", utf8.RuneCountInString(e.distinctID))
	}
	if e.timestamp == "" && e.offset == nil || e.timestamp != "" && !isRFC3339(e.timestamp) {
		t.Fatalf("accepted event without a time: %+v", e)
	}
	var props map[string]any
	if err := json.Unmarshal([]byte(e.props), &props); err != nil || props == nil {
		t.Fatalf("properties %q are not an object: %v", e.props, err)
	}
}
