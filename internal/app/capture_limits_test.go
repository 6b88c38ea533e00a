package app

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
)

// TestCaptureLimitsHTTP: every decode and parse cap is answered in the
// capture error shape with its status and code, never a 503.
func TestCaptureLimitsHTTP(t *testing.T) {
	cfg, _, _ := serverConfig(t)
	cfg.PostHogTokens = []string{"phc_ok"}
	cfg.MaxDecodedBytes = 1 << 20
	cfg.MaxDecodeRatio = 100
	cfg.MaxEventsPerBatch = 5
	cfg.MaxEventBytes = 4096
	cfg.MaxProperties = 10
	cfg.MaxPropertyBytes = 1024
	h := startHarness(t, cfg)

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"api_key":"phc_ok","event":"e","distinct_id":"d","properties":{"x":"` + strings.Repeat("0", 900<<10) + `"}}`))
	zw.Close()
	ev := `{"event":"e","distinct_id":"d"}`
	f := func(name, contentType, body string, status int, typ, code string) {
		t.Helper()
		r := h.do("POST", "/batch/", "", contentType, body)
		m := r.json(t)
		if r.status != status || m["type"] != typ || m["code"] != code || m["detail"] == "" {
			t.Fatalf("%s: %d %s; want %d %s %s", name, r.status, r.body, status, typ, code)
		}
	}
	f("gzip bomb", "text/plain", gz.String(), 413, "validation_error", "decode_ratio")
	f("decoded cap", "application/json", `{"api_key":"phc_ok","event":"e","distinct_id":"d","properties":{"x":"`+strings.Repeat("0", 1<<20)+`"}}`, 413, "validation_error", "too_large")
	f("events", "application/json", `{"api_key":"phc_ok","batch":[`+strings.Repeat(ev+",", 5)+ev+`]}`, 413, "validation_error", "too_many_events")
	f("event size", "application/json", `{"api_key":"phc_ok","event":"e","distinct_id":"d","properties":{"a":"`+strings.Repeat("x", 900)+`","b":"`+strings.Repeat("x", 900)+`","c":"`+strings.Repeat("x", 900)+`","d":"`+strings.Repeat("x", 900)+`","e":"`+strings.Repeat("x", 900)+`"}}`, 413, "validation_error", "event_too_large")
	f("properties", "application/json", `{"api_key":"phc_ok","event":"e","distinct_id":"d","$set":{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11}}`, 400, "validation_error", "too_many_properties")
	f("property size", "application/json", `{"api_key":"phc_ok","event":"e","distinct_id":"d","properties":{"a":"`+strings.Repeat("x", 1100)+`"}}`, 400, "validation_error", "property_too_large")
	f("unknown token", "application/json", `{"api_key":"phc_other","batch":[`+ev+`]}`, 401, "authentication_error", "unknown_token")
	if r := h.do("POST", "/batch/", "", "application/json", `{"api_key":"phc_ok","batch":[`+ev+`]}`); r.status != 200 {
		t.Fatalf("within every cap: %d %s", r.status, r.body)
	}
}
