package reddit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/hashing"
)

// FuzzPayload: whatever a conversion carries, the builder never panics,
// always writes valid JSON, never sends sha256(""), sends hashed fields only
// as digests and never sends an event Reddit would refuse for its time.
func FuzzPayload(f *testing.F) {
	f.Add("John_Smith@gmail.com", "+1 (650) 555-1212", "203.0.113.7", "Mozilla/5.0", "cid", "1767.uuid", "user-42",
		"Purchase", "https://shop.example/?a=1&b=<2>", "USD", 42.5, int64(-3600_000), uint8(0), "us", "ca")
	f.Add("", "", "", "", "", "", "", "", "", "", 0.0, int64(0), uint8(1), "", "")
	f.Add(" \t", "00", "::1%eth0", "\xff\xfe", "\x00", "\"", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
		"Custom", "javascript:alert(1)", "usd", -1.0, int64(-604_800_000), uint8(2), "GBR", "US-NY")
	c := testClient(f, Config{LimitedDataUse: true, DefaultPhoneCountry: "1"})
	now := c.now()
	f.Fuzz(func(t *testing.T, email, phone, ip, ua, cid, uuid, ext, name, page, currency string, value float64,
		offsetMs int64, consent uint8, country, state string) {
		conv := conversions.Conversion{
			DedupID: "d1", EventName: name, OccurredAt: now.Add(time.Duration(offsetMs) * time.Millisecond),
			HasValue: true, Value: value, Currency: currency, PageURL: page,
			Consent: []conversions.Consent{conversions.ConsentUnknown, conversions.ConsentGranted, conversions.ConsentDenied}[consent%3],
			User:    conversions.User{Email: email, Phone: phone, IP: ip, UserAgent: ua, ExternalID: ext, Country: country, State: state},
			Clicks:  conversions.Clicks{RdtCid: cid, RdtUUID: uuid},
		}
		ev, err := c.buildEvent(conv, now)
		if err != nil {
			return
		}
		b, err := encodeBody("", []event{ev})
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		if !json.Valid(b) {
			t.Fatalf("invalid JSON: %s", b)
		}
		if strings.Contains(string(b), `"`+hashing.EmptyDigest+`"`) {
			t.Fatalf("sent sha256(\"\"): %s", b)
		}
		for _, h := range []string{ev.User.Email, ev.User.PhoneNumber, ev.User.ExternalID, ev.User.IPAddress} {
			if h != "" && (!hashing.IsHashed(h) || strings.ToLower(h) != h) {
				t.Fatalf("hashed field %q is not a lower-case digest", h)
			}
		}
		at := time.UnixMilli(ev.EventAt)
		if now.Sub(at) >= MaxAge || at.Sub(now) > MaxFuture {
			t.Fatalf("event_at %d outside reddit's window", ev.EventAt)
		}
		if !hasAttribution(ev) {
			t.Fatal("sent an event with no attribution signal")
		}
	})
}
