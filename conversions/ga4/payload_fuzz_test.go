package ga4

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/hashing"
)

// FuzzPayload checks that no conversion makes the builder panic, produce
// invalid JSON or send sha256("").
func FuzzPayload(f *testing.F) {
	f.Add("John.Smith@gmail.com", "+1 650 555 1212", "Mary", "Menlo Park", "us", "https://e.com/?a=1&b=2", "123.456", "c1", "purchase", 9.99, "USD", int64(-3600), true)
	f.Add("", "", " ", "", "", "", "", "", "", 0.0, "", int64(0), false)
	f.Add(hashing.EmptyDigest, "0", "\xff", "\x00", "ZZ", "\u2028", " ", "c", "sign_up", -1.0, "usd", int64(-60), true)
	f.Add(hashing.EmptyDigest, hashing.EmptyDigest, hashing.EmptyDigest, "x", "us", "", "", "c", "purchase", 1.0, "EUR", int64(-60), false)
	f.Fuzz(func(t *testing.T, email, phone, first, city, country, page, gaID, contact, name string, value float64, currency string, ageSecs int64, hasValue bool) {
		conv := conversions.Conversion{
			DedupID: "d1", EventName: name, ContactID: contact,
			OccurredAt: testNow.Add(time.Duration(ageSecs%1e6) * time.Second),
			HasValue:   hasValue, Value: value, Currency: currency, PageURL: page,
			User:    conversions.User{Email: email, Phone: phone, FirstName: first, LastName: first, City: city, Country: country, ExternalID: contact},
			Clicks:  conversions.Clicks{GAClientID: gaID},
			Consent: conversions.ConsentGranted,
		}
		it, err := builder{phoneCountry: "44"}.item(conv, testNow)
		if err != nil {
			return
		}
		reqs, _ := group([]item{it}, MaxBatch)
		if len(reqs) != 1 {
			t.Fatalf("%d requests for one conversion", len(reqs))
		}
		body, err := encode(reqs[0])
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		if !json.Valid(body) {
			t.Fatalf("invalid JSON: %s", body)
		}
		if bytes.Contains(body, []byte(`"`+hashing.EmptyDigest+`"`)) {
			t.Fatalf("sha256(\"\") sent: %s", body)
		}
	})
}
