package googleads

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/hashing"
)

var digestRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// FuzzPayload feeds random conversion fields to the builder: it must never
// panic, and whatever it accepts must encode to valid JSON with only
// lower-case digests for identifiers, never sha256(""), and the row fields
// Google requires.
func FuzzPayload(f *testing.F) {
	f.Add("John.Smith@gmail.com", "+1 (650) 555-1212", "Cj0KCQiA…", "", "", "ord_123", "USD", 100.0, int64(1735689600), "granted", "", "44", true)
	f.Add("", "", "", "gb", "wb", "x", "eur", 0.0, int64(0), "", "555", "", false)
	f.Add("   ", "07700 900123", "", "", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "", -1.5, int64(-62135596800), "denied", "customers/1-2/conversionActions/3", "1", true)
	f.Add("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "\xff", "\x00", "", "", "a&b", "usd", 1e300, int64(253402300800), "x", "", "", true)
	f.Fuzz(func(t *testing.T, email, phone, gclid, gbraid, wbraid, dedup, currency string, value float64, unix int64, consent, eventName, country string, validateOnly bool) {
		b := testBuilder()
		b.phoneCountry, b.validateOnly = country, validateOnly
		c := conversions.Conversion{
			DedupID: dedup, EventName: eventName,
			OccurredAt: time.Unix(unix, 0),
			HasValue:   true, Value: value, Currency: currency,
			User:    conversions.User{Email: email, Phone: phone},
			Clicks:  conversions.Clicks{Gclid: gclid, Gbraid: gbraid, Wbraid: wbraid},
			Consent: conversions.Consent(consent),
		}
		row, err := b.conversion(c)
		if err != nil {
			return
		}
		body, err := b.body([]clickConversion{row})
		if err != nil {
			t.Fatalf("encode accepted row: %v", err)
		}
		if !json.Valid(body) {
			t.Fatalf("invalid JSON: %s", body)
		}
		if bytes.Contains(bytes.ToLower(body), []byte(`"`+hashing.EmptyDigest+`"`)) {
			t.Fatalf("sha256(\"\") sent: %s", body)
		}
		var req struct {
			Conversions []struct {
				ConversionAction   string `json:"conversionAction"`
				ConversionDateTime string `json:"conversionDateTime"`
				OrderID            string `json:"orderId"`
				Gclid, Gbraid      string
				Wbraid             string
				UserIdentifiers    []map[string]string `json:"userIdentifiers"`
			} `json:"conversions"`
			PartialFailure bool `json:"partialFailure"`
		}
		if err := json.Unmarshal(body, &req); err != nil || len(req.Conversions) != 1 || !req.PartialFailure {
			t.Fatalf("decode %s: %v", body, err)
		}
		r := req.Conversions[0]
		if !actionRE.MatchString(r.ConversionAction) || len(r.ConversionDateTime) != len("2006-01-02 15:04:05+00:00") || r.OrderID == "" {
			t.Fatalf("required fields: %s", body)
		}
		clicks := 0
		for _, id := range []string{r.Gclid, r.Gbraid, r.Wbraid} {
			if id != "" {
				clicks++
			}
		}
		if clicks > 1 || clicks+len(r.UserIdentifiers) == 0 {
			t.Fatalf("want one click id at most and something to match: %s", body)
		}
		for _, id := range r.UserIdentifiers {
			if len(id) != 1 {
				t.Fatalf("identifier oneof: %s", body)
			}
			for _, v := range id {
				if !digestRE.MatchString(v) {
					t.Fatalf("identifier %q is not a lower-case digest", v)
				}
			}
		}
	})
}
