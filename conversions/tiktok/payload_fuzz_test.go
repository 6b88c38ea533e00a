package tiktok

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/hashing"
)

// FuzzPayload: whatever the conversion holds, the builder never panics,
// never emits invalid JSON, never sends sha256(""), and every hashed field
// is a lower-case digest while plain fields are never digests.
func FuzzPayload(f *testing.F) {
	f.Add("  Buyer@Example.COM ", "(650)555-1212", "Mary Ann", "94025-1234", "San Francisco", "US", "203.0.113.7", "E.C.P.abc", "https://shop.example/?ttclid=x&y=<1>", "ord_123", 42.5, int64(1767225600), "granted")
	f.Add("", "", "", "", "", "", "", "", "", "", 0.0, int64(0), "")
	f.Add(hashing.EmptyDigest, hashing.EmptyDigest, hashing.EmptyDigest, hashing.EmptyDigest, hashing.EmptyDigest, hashing.EmptyDigest, hashing.EmptyDigest, hashing.EmptyDigest, "", "\xff", -1.0, int64(-1), "denied")
	f.Add(hashing.EmptyDigest, hashing.EmptyDigest, hashing.EmptyDigest, hashing.EmptyDigest, hashing.EmptyDigest, hashing.EmptyDigest, hashing.EmptyDigest, hashing.EmptyDigest, "", "o", 1.0, int64(3), "")
	// A past finding: a phone that is "0" and the empty digest.
	f.Add("0", "0", "0e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "0", "0", "0", "0", "0", "", "0", 1.0, int64(3), "")
	f.Fuzz(func(t *testing.T, email, phoneRaw, fullName, zip, city, country, ipRaw, ttclid, page, orderID string, value float64, unix int64, consent string) {
		now := exampleTime.Add(time.Hour)
		c := conversions.Conversion{
			DedupID: orderID + "d", EventName: "Purchase" + orderID,
			OccurredAt: time.Unix(unix%(20*365*86400), 0), // keep years sane
			HasValue:   value != 0, Value: value, Currency: "USD", OrderID: orderID,
			PageURL: page,
			User: conversions.User{
				Email: email, Phone: phoneRaw, FirstName: fullName, LastName: fullName, Zip: zip,
				City: city, State: city, Country: country, ExternalID: orderID, IP: ipRaw, UserAgent: fullName,
			},
			Clicks:  conversions.Clicks{Ttclid: ttclid, Ttp: ttclid},
			Consent: conversions.Consent(consent),
		}
		if unix%3 == 0 {
			c.OccurredAt = now.Add(-time.Duration(unix%1000) * time.Minute)
		}
		b := testBuilder()
		b.phoneCountry = "1"
		ev, err := b.event(c, now)
		if err != nil {
			return
		}
		raw, err := b.body([]event{ev, ev})
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		if !json.Valid(raw) {
			t.Fatalf("invalid JSON: %s", raw)
		}
		// sha256("") as a value is an empty field hashed; the same hex inside
		// a longer plain value (a user agent, say) is not.
		if strings.Contains(string(raw), `"`+hashing.EmptyDigest+`"`) {
			t.Fatalf("sent sha256(\"\"): %s", raw)
		}
		var back request
		if err := json.Unmarshal(raw, &back); err != nil || len(back.Data) != 2 {
			t.Fatalf("round trip: %v", err)
		}
		u := back.Data[0].User
		for _, h := range []string{u.Email, u.Phone, u.ExternalID, u.FirstName, u.LastName, u.ZipCode} {
			if h != "" && (!hashing.IsHashed(h) || strings.ToLower(h) != h) {
				t.Fatalf("hashed field %q is not a lower-case digest", h)
			}
		}
		for _, p := range []string{u.City, u.State, u.Country, u.IP, u.Ttclid, u.Ttp, u.UserAgent} {
			if hashing.IsHashed(p) {
				t.Fatalf("plain field %q is a digest", p)
			}
		}
		if back.Data[0].EventTime != c.OccurredAt.Unix() || back.Data[0].EventTime > 1e10 {
			t.Fatalf("event_time %d for %s", back.Data[0].EventTime, c.OccurredAt)
		}
		if c.Consent == conversions.ConsentDenied {
			t.Fatal("built an event without consent")
		}
	})
}
