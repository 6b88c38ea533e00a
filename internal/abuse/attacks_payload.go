package abuse

import (
	"context"
	"net"
	"strings"
	"sync"
	"time"
)

// tooLarge is a payload past a size limit: 413, or 429 when the in-flight
// byte budget, or its address's count of refusals, is what it ran into first.
var tooLarge = Expect{Statuses: []int{413, 429}}

// badPayload is a payload past a shape limit (members per object, value
// size, nesting): 400, or one of tooLarge's when a size limit comes first.
var badPayload = Expect{Statuses: []int{400, 413, 429}}

// post is an attack that sends the requests made (once) by build, each
// `times` times concurrently, and expects e.
func post(name, group string, times int, e Expect, build func(t Target) []request) Attack {
	var once sync.Once
	var qs []request
	prepare := func(t Target) { once.Do(func() { qs = build(t) }) }
	return Attack{Name: name, Group: group, prepare: prepare, run: func(ctx context.Context, t Target, src net.IP, r *Result) {
		prepare(t)
		fanOut(len(qs)*times, func(i int) {
			q := qs[i%len(qs)]
			r.record(q.method+" "+q.path, t.exchange(ctx, src, q, 60*time.Second), e)
		})
	}}
}

func capturePost(path, contentType string, body []byte) request {
	return request{method: "POST", path: path, body: body, headers: []string{"Content-Type: " + contentType}}
}

func nativePost(t Target, path string, body []byte) request {
	return request{method: "POST", path: path, body: body,
		headers: []string{"Authorization: Bearer " + t.Key, "Content-Type: application/json"}}
}

// bombAttacks are decompression bombs in every encoding capture reads:
// gzip, gzip in base64, lz64, base64 of base64, and each as form data=.
func bombAttacks(t Target) []Attack {
	// Twice the decoded cap (lz64 one cap and a MiB, as it costs the
	// generator more): what a cap checked only at the end would hold.
	padding := 2*t.Limits.MaxDecodedBytes + 1<<20
	gz := sync.OnceValue(func() []byte { return gzipped(bomb(t.Token, padding)) })
	lz := sync.OnceValue(func() []byte { return []byte(LZ64(text(bomb(t.Token, t.Limits.MaxDecodedBytes+1<<20)))) })
	const plain, formType = "text/plain", "application/x-www-form-urlencoded"
	bombs := []struct {
		name string
		q    func() request
	}{
		{"gzip", func() request { return capturePost("/batch/", plain, gz()) }},
		{"gzip-base64", func() request { return capturePost("/batch/", plain, b64(gz())) }},
		{"lz64", func() request { return capturePost("/batch/?compression=lz64", plain, lz()) }},
		{"base64-base64-gzip", func() request { return capturePost("/e/", plain, b64(b64(gz()))) }},
		{"form-gzip", func() request { return capturePost("/e/", formType, form(gz(), "")) }},
		{"form-gzip-base64", func() request { return capturePost("/e/", formType, form(b64(gz()), "")) }},
		{"form-lz64", func() request { return capturePost("/e/", formType, form(lz(), "lz64")) }},
		{"form-base64-base64-gzip", func() request { return capturePost("/e/", formType, form(b64(b64(gz())), "")) }},
	}
	var out []Attack
	for _, b := range bombs {
		e := tooLarge
		if strings.Contains(b.name, "base64-base64") {
			// Capture reads one base64 layer around gzip, not two: this
			// one is unreadable (400), and must cost no more than a bomb.
			e = badPayload
		}
		out = append(out, post("bomb-"+b.name, "compression bombs", 4, e, func(Target) []request { return []request{b.q()} }))
	}
	return out
}

// hugeAttacks are payloads past the caps on events, members, value size and
// nesting.
func hugeAttacks(t Target) []Attack {
	lim := t.Limits
	const group = "huge payloads"
	return []Attack{
		post("million-events", group, 2, tooLarge, func(t Target) []request {
			return []request{capturePost("/batch/", "text/plain", gzipped(events(t.Token, 1_000_000)))}
		}),
		post("events-over-cap", group, 2, tooLarge, func(t Target) []request {
			return []request{capturePost("/batch/", "application/json", []byte(text(events(t.Token, lim.MaxEvents+1))))}
		}),
		post("million-key-properties", group, 1, badPayload, func(t Target) []request {
			props := `"properties":{"distinct_id":"wide","wide":` + string(wide(1_000_000)) + `}`
			return []request{capturePost("/batch/", "text/plain", gzipped(writeString(string(captureEvent(t.Token, "abuse.wide", props)))))}
		}),
		post("million-key-set", group, 1, badPayload, func(t Target) []request {
			props := `"properties":{"distinct_id":"wide-set","$set":` + string(wide(1_000_000)) + `}`
			return []request{capturePost("/batch/", "text/plain", gzipped(writeString(string(captureEvent(t.Token, "$identify", props)))))}
		}),
		post("wide-objects", group, 1, badPayload, func(t Target) []request {
			w := string(wide(2 * lim.MaxProperties))
			return []request{
				nativePost(t, "/v1/events", []byte(`{"name":"abuse.wide","userId":"wide-native","eventProperties":`+w+`}`)),
				request{method: "PUT", path: "/v1/contacts", body: []byte(`{"userId":"wide-native","properties":` + w + `}`),
					headers: []string{"Authorization: Bearer " + t.Key, "Content-Type: application/json"}},
				// Members of the objects the proxy reads are capped; a nested
				// value is opaque, bounded by the property and event sizes.
				capturePost("/batch/", "application/json", captureEvent(t.Token, "abuse.wide", `"distinct_id":"wide-capture","properties":`+w)),
				capturePost("/batch/", "application/json", captureEvent(t.Token, "$identify", `"properties":{"distinct_id":"wide-capture-set","$set":`+w+`}`)),
			}
		}),
		post("huge-property-value", group, 1, badPayload, func(t Target) []request {
			v := strings.Repeat("v", 300<<10)
			return []request{
				nativePost(t, "/v1/events", []byte(`{"name":"abuse.value","userId":"value-native","eventProperties":{"v":"`+v+`"}}`)),
				capturePost("/batch/", "application/json", captureEvent(t.Token, "abuse.value", `"properties":{"distinct_id":"value-capture","v":"`+v+`"}`)),
			}
		}),
		post("event-over-1mb", group, 1, Expect{Statuses: []int{200, 413, 429}}, func(t Target) []request {
			// PostHog drops such an event and keeps the rest; refusing the
			// request is the other documented answer.
			pad := `"properties":{"distinct_id":"big-event","pad":"` + strings.Repeat("p", 1_100_000) + `"}`
			return []request{capturePost("/batch/", "text/plain", gzipped(writeString(string(captureEvent(t.Token, "abuse.big", pad)))))}
		}),
		post("deep-nesting", group, 2, badPayload, func(t Target) []request {
			d := deep(10_000)
			return []request{
				nativePost(t, "/v1/events", []byte(`{"name":"abuse.deep","userId":"deep","eventProperties":{"d":`+d+`}}`)),
				capturePost("/batch/", "application/json", captureEvent(t.Token, "abuse.deep", `"properties":{"distinct_id":"deep","d":`+d+`}`)),
				capturePost("/batch/", "text/plain", gzipped(writeString(`{"api_key":"`+t.Token+`","batch":`+d+`}`))),
			}
		}),
	}
}
