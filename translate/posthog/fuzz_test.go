package posthog

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

func FuzzDecodeRequest(f *testing.F) {
	js := decodeEvent
	b64 := base64.StdEncoding.EncodeToString([]byte(js))
	lz := lzCompressToBase64(js)
	form := "application/x-www-form-urlencoded"
	f.Add("/e/", "", "application/json", "", []byte(js))
	f.Add("/e/", "compression=gzip-js&_=1", "text/plain", "", gzipBytes(f, []byte(js)))
	f.Add("/batch/", "", "application/json", "gzip", gzipBytes(f, []byte(js)))
	f.Add("/e/", "", form, "", []byte("data="+url.QueryEscape(b64)+"&ver=1"))
	f.Add("/e/", "", form, "", []byte("data="+lz+"&compression=lz64"))
	f.Add("/e/", "data="+url.QueryEscape(b64), "", "", []byte(nil))
	f.Add("/batch/", "", "", "lz64", []byte(lz))
	f.Add("/batch/", "", "text/plain", "", []byte(b64))
	f.Add("/e/", "", "", "", []byte(`{"a":"\ud83c\ud83c"}`))
	f.Add("/e/", "", "", "", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"))
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, path, query, contentType, contentEncoding string, body []byte) {
		in := RequestInput{Path: path, Query: []byte(query), ContentType: contentType, ContentEncoding: contentEncoding, Body: body}
		out, err := DecodeRequest(in, Limits{MaxDecoded: limit})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || Reason(err) == "other" || e.Error() == "" {
				t.Fatalf("untyped error %#v", err)
			}
			return
		}
		if len(out) > limit || !utf8.Valid(out) {
			t.Fatalf("output of %d bytes, valid utf-8 %v", len(out), utf8.Valid(out))
		}
		if len(out) > 0 && len(body) > 0 && &out[0] == &body[0] {
			t.Fatalf("output aliases the body")
		}
		checkParse(t, out, path)
	})
}

// FuzzDecodeLimits: whatever arrives, every result stays within the decoded
// cap and the ratio cap, and the budget was charged for at least the result.
// Seeded with a bomb of every encoding and wrapping.
func FuzzDecodeLimits(f *testing.F) {
	gz := gzipBomb(f, 4<<20)
	b64gz := base64.StdEncoding.EncodeToString(gz)
	lz := string(lzBombBase64(1500, '['))
	form := "application/x-www-form-urlencoded"
	f.Add("", "text/plain", "", gz, 1<<20, 100)
	f.Add("", "", "gzip", gz, 8<<20, 1000)
	f.Add("", "", "", []byte(b64gz), 1<<20, 100)
	f.Add("", form, "", []byte("data="+url.QueryEscape(b64gz)), 1<<20, 100)
	f.Add("data="+url.QueryEscape(b64gz), "", "", []byte(nil), 1<<20, 100)
	f.Add("", "", "lz64", []byte(lz), 1<<20, 100)
	f.Add("compression=lz64&data="+lz, "", "", []byte(nil), 1<<20, 100)
	f.Add("", form, "", []byte("compression=lz64&data="+lz), 4<<20, 10)
	f.Add("", "", "", []byte(decodeEvent), 1024, 2)
	f.Fuzz(func(t *testing.T, query, contentType, contentEncoding string, body []byte, maxDecoded, ratio int) {
		maxDecoded = 1024 + abs(maxDecoded)%(8<<20)
		ratio = 2 + abs(ratio)%1000
		b := &countingBudget{room: 1 << 30}
		in := RequestInput{Path: "/batch/", Query: []byte(query), ContentType: contentType, ContentEncoding: contentEncoding, Body: body}
		out, err := DecodeRequest(in, Limits{MaxDecoded: maxDecoded, MaxDecodeRatio: ratio, Budget: b})
		if err != nil {
			if Reason(err) == "other" {
				t.Fatalf("untyped error %#v", err)
			}
			return
		}
		wire := len(query) + len(body)
		if len(out) > maxDecoded || len(out) > max(ratio*wire, DecodeRatioFloor) {
			t.Fatalf("%d bytes decoded from %d (cap %d, ratio %d)", len(out), wire, maxDecoded, ratio)
		}
		if b.reserved < len(out) {
			t.Fatalf("%d bytes decoded, %d charged", len(out), b.reserved)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}

func FuzzParsePayload(f *testing.F) {
	f.Add([]byte(`{"api_key":"t","batch":[{"event":"a","distinct_id":"d","uuid":"018a981f-4b35-7c66-825e-8b0eeae65714","timestamp":"2024-01-01T00:00:00Z"}],"sent_at":"2024-01-01T00:00:01Z"}`), "/batch/")
	f.Add([]byte(`[{"event":"a","offset":12,"properties":{"distinct_id":["x"],"token":"t","$ignore_sent_at":true}}]`), "/e/")
	f.Add([]byte(`{"distinct_id":"d","$token":"t","$set":{"a":1}}`), "/engage/")
	f.Add([]byte(`{"event":"$performance_event","distinct_id":"d","token":"t"}`), "/e/")
	f.Add([]byte(`{"event":"a","distinct_id":{"a":[1, 2]},"api_key":"t","timestamp":"1694769302325"}`), "/e/")
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		checkParse(t, body, path)
	})
}

// FuzzParseLimits: an accepted payload is within every parse cap.
func FuzzParseLimits(f *testing.F) {
	f.Add(batchOf(event("e", 30, `,"$set":{`+numbered(30)+`}`)), 5, 20, 64, 1024)
	f.Add([]byte(`[`+strings.Repeat(`{"event":"e","distinct_id":"d","token":"t"},`, 50)+`{"event":"e","distinct_id":"d","token":"t"}]`), 10, 10, 64, 1024)
	f.Add(batchOf(event("a", 1, ""), `{"event":"e","properties":{"pad":"`+strings.Repeat("x", 3000)+`"}}`), 10, 10, 4096, 2048)
	f.Add([]byte(`{"event":"e","distinct_id":"d","token":"t","properties":{"$unset":[`+strings.Repeat(`"k",`, 40)+`"k"]}}`), 10, 10, 4096, 4096)
	f.Fuzz(func(t *testing.T, text []byte, maxEvents, maxProps, maxPropBytes, maxEventBytes int) {
		l := Limits{MaxEvents: 1 + abs(maxEvents)%100, MaxProperties: 1 + abs(maxProps)%100,
			MaxPropertyBytes: 1 + abs(maxPropBytes)%4096, MaxEventBytes: 1 + abs(maxEventBytes)%8192}
		p, err := ParsePayloadInto(nil, text, "/batch/", l)
		if err != nil {
			if Reason(err) == "other" {
				t.Fatalf("untyped error %#v", err)
			}
			return
		}
		if len(p.Events)+p.Dropped+p.Oversize > l.MaxEvents {
			t.Fatalf("%d events kept, %d dropped, %d oversize; cap %d", len(p.Events), p.Dropped, p.Oversize, l.MaxEvents)
		}
		for i := range p.Events {
			ev := &p.Events[i]
			if len(ev.Raw.Raw) > l.MaxEventBytes {
				t.Fatalf("event of %d bytes kept; cap %d", len(ev.Raw.Raw), l.MaxEventBytes)
			}
			n := 0
			ev.Properties.ForEach(func(_, v gjson.Result) bool {
				if n++; n > l.MaxProperties || len(v.Raw) > l.MaxPropertyBytes {
					t.Fatalf("property %d of %d bytes kept; caps %d and %d", n, len(v.Raw), l.MaxProperties, l.MaxPropertyBytes)
				}
				return true
			})
		}
	})
}

// FuzzPeekToken: when the peek settles a token and the parse succeeds,
// they agree, so refusing the peeked token refuses nothing the parse would
// accept under another.
func FuzzPeekToken(f *testing.F) {
	f.Add([]byte(`{"api_key":"t","batch":[{"event":"a","distinct_id":"d"}]}`), 100000)
	f.Add([]byte(`[{"event":"a","distinct_id":"d","properties":{"token":"t"}},{"event":"b","distinct_id":"d","token":"t"}]`), 100000)
	f.Add([]byte(`{"event":"a","distinct_id":"d","properties":{"token":"p"},"$token":"t"}`), 100000)
	f.Add([]byte(`{"batch":null,"token":" t ","event":"a","distinct_id":"d"}`), 100000)
	f.Add([]byte(`[{"event":"a","distinct_id":"d","token":"t","properties":{"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}},{"event":"b","distinct_id":"d","token":"u"}]`), 64)
	f.Fuzz(func(t *testing.T, text []byte, maxEventBytes int) {
		l := Limits{MaxEventBytes: 1 + abs(maxEventBytes)%200000}
		tok, ok := PeekToken(text, l)
		p, err := ParsePayloadInto(nil, text, "/batch/", l)
		if ok && err == nil && p.Token != tok {
			t.Fatalf("peeked %q, parsed %q", tok, p.Token)
		}
	})
}

// checkParse runs ParsePayload and EventTime and checks their invariants.
func checkParse(t *testing.T, text []byte, path string) {
	t.Helper()
	p, err := ParsePayload(text, path)
	if err != nil {
		if Reason(err) == "other" {
			t.Fatalf("untyped error %#v", err)
		}
		return
	}
	if p.Token == "" || len(p.Token) > maxTokenLen {
		t.Fatalf("token %q", p.Token)
	}
	now := time.Date(2025, 7, 1, 11, 0, 0, 0, time.UTC)
	sentAt, _ := ResolveSentAt(p.SentAt, []byte("_=1751367600000"))
	for i := range p.Events {
		ev := &p.Events[i]
		if ev.Name == "" || ev.Name == droppedEventName || ev.DistinctID == "" || utf8.RuneCountInString(ev.DistinctID) > maxDistinctIDLen {
			t.Fatalf("event %+v", ev)
		}
		if ev.UUID.String() == "00000000-0000-0000-0000-000000000000" && ev.UUIDGenerated {
			t.Fatalf("generated a zero uuid")
		}
		got := EventTime(ev, sentAt, now)
		if got.Sub(now) > maxFuture || got.Year() < 0 || got.Year() > 9999 {
			t.Fatalf("event time %s", got)
		}
	}
}
