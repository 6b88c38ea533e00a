package meta

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/hashing"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/metafake"
)

// FuzzEvent feeds random conversion fields to the builder: it must never
// panic, and whatever it accepts must encode to valid JSON without
// sha256(""), and pass the strict fake's event checks.
func FuzzEvent(f *testing.F) {
	f.Add("John_Smith@gmail.com", "+1 (650) 555-1212", "Mary", "O'Brien", "San Francisco", "CA", "94025-1234", "US", "User-42",
		"203.0.113.7", "Mozilla/5.0", "IwAR2F4-dbP0l7Mn", "", "fb.1.1766000000000.1098115397",
		"https://shop.example/thanks", "Purchase", "d1", "usd", 142.52, true, int64(-3600), int64(1767000000000), uint8(1), "1", "")
	f.Add("", "", "", "", "", "", "", "", "", "", "", "", "fb.1.1767000000000.AbC.Bg", "", "", "Lead", "d2", "", 0.0, false,
		int64(0), int64(0), uint8(0), "", "physical_store")
	f.Add(hashing.EmptyDigest, "0", "!!", " ", "", "", "", "usa", " ", "::ffff:10.0.0.1", " ", "a.b.c", "fb.x", "fb.1.2.3",
		"/relative", "Lead", " ", "EUR", math.Inf(1), true, int64(7*24*3600+1), int64(-1), uint8(2), "44", "website")

	now := t0
	f.Fuzz(func(t *testing.T, email, phone, fn, ln, city, state, zip, country, ext, ip, ua, fbclid, fbc, fbp,
		page, name, dedup, currency string, value float64, hasValue bool, offset, clickMs int64, consent uint8,
		phoneCountry, source string) {
		c := conversions.Conversion{
			DedupID: dedup, EventName: name, OccurredAt: now.Add(-time.Duration(offset) * time.Second),
			HasValue: hasValue, Value: value, Currency: currency, PageURL: page,
			User: conversions.User{Email: email, Phone: phone, FirstName: fn, LastName: ln, City: city, State: state,
				Zip: zip, Country: country, ExternalID: ext, IP: ip, UserAgent: ua},
			Clicks:  conversions.Clicks{Fbclid: fbclid, Fbc: fbc, Fbp: fbp},
			Consent: []conversions.Consent{conversions.ConsentUnknown, conversions.ConsentGranted, conversions.ConsentDenied}[consent%3],
		}
		if clickMs != 0 {
			c.Clicks.At = time.UnixMilli(clickMs)
		}
		cfg := Config{PixelID: "1", AccessToken: "t", ActionSource: source, DefaultPhoneCountry: phoneCountry}
		if cfg.Validate() != nil {
			cfg.ActionSource, cfg.DefaultPhoneCountry = "", ""
		}
		b := builder{actionSource: cfg.ActionSource, phoneCountry: cfg.DefaultPhoneCountry}

		ev, err := b.event(c, now)
		if err != nil {
			return
		}
		if c.Consent == conversions.ConsentDenied {
			t.Fatal("built an event for denied consent")
		}
		body, err := encode([]event{ev}, "", "t")
		if err != nil {
			t.Fatalf("encode an accepted event: %v", err)
		}
		if !json.Valid(body) {
			t.Fatalf("invalid JSON: %s", body)
		}
		if bytes.Contains(body, []byte(`"`+hashing.EmptyDigest+`"`)) {
			t.Fatalf("sha256(\"\") sent: %s", body)
		}
		var req struct {
			Data []json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &req); err != nil || len(req.Data) != 1 {
			t.Fatalf("decode own body: %v", err)
		}
		if err := metafake.ValidateEvent(req.Data[0], now); err != nil {
			t.Fatalf("the strict fake refuses a built event: %v\n%s", err, req.Data[0])
		}
	})
}
