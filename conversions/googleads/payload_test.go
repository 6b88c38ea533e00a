package googleads

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

func testBuilder() builder {
	return builder{
		customerID: "1231231234",
		action:     "customers/1231231234/conversionActions/123456789",
	}
}

// documentedExample is the conversion behind the documented minimal example (docs/contracts/ad-platforms.md §3.2).
func documentedExample() conversions.Conversion {
	return conversions.Conversion{
		DedupID:    "ord_123",
		OccurredAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		HasValue:   true, Value: 100, Currency: "USD",
		User:    conversions.User{Email: "John.Smith@gmail.com", Phone: "+1 (650) 555-1212"},
		Clicks:  conversions.Clicks{Gclid: "Cj0KCQiA…"},
		Consent: conversions.ConsentGranted,
	}
}

func TestPayloadBytes(t *testing.T) {
	f := func(name string, b builder, edit func(*conversions.Conversion), want string) {
		t.Helper()
		c := documentedExample()
		if edit != nil {
			edit(&c)
		}
		row, err := b.conversion(c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := b.body([]clickConversion{row})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(got) != want {
			t.Fatalf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	const (
		head  = `{"conversions":[{"conversionAction":"customers/1231231234/conversionActions/123456789","conversionDateTime":"2025-01-01 00:00:00+00:00",`
		email = `{"hashedEmail":"3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586"}`
		phone = `{"hashedPhoneNumber":"1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8"}`
		tail  = `"conversionValue":100.0,"currencyCode":"USD","orderId":"ord_123","consent":{"adUserData":"GRANTED","adPersonalization":"GRANTED"}}],"partialFailure":true}`
	)
	// The documented minimal example request, byte for byte (docs/contracts/ad-platforms.md §3.2), with the
	// docs/contracts/ad-platforms.md §1.2 vectors for the gmail-dot email and the E.164 phone.
	f("documented minimal example", testBuilder(), nil,
		`{"conversions":[{"conversionAction":"customers/1231231234/conversionActions/123456789","conversionDateTime":"2025-01-01 00:00:00+00:00","gclid":"Cj0KCQiA…","userIdentifiers":[{"hashedEmail":"3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586"},{"hashedPhoneNumber":"1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8"}],"conversionValue":100.0,"currencyCode":"USD","orderId":"ord_123","consent":{"adUserData":"GRANTED","adPersonalization":"GRANTED"}}],"partialFailure":true}`)

	// docs/contracts/ad-platforms.md §1.2 vectors: the HS inputs in Google's forms.
	f("trimmed, lower-cased email; international phone", testBuilder(), func(c *conversions.Conversion) {
		c.User = conversions.User{Email: "  Buyer@Example.COM ", Phone: "+44 7700 900123"}
	}, head+`"gclid":"Cj0KCQiA…","userIdentifiers":[{"hashedEmail":"6a6c26195c3682faa816966af789717c3bfa834eee6c599d667d2b3429c27cfd"},{"hashedPhoneNumber":"a8acc3a90a7b4e4dc65e93db9240ed26523050ef754d63b75b5161de76781436"}],`+tail)
	uk := testBuilder()
	uk.phoneCountry = "44"
	f("national phone with a default country", uk, func(c *conversions.Conversion) {
		c.User = conversions.User{Phone: "07700 900123"}
	}, head+`"gclid":"Cj0KCQiA…","userIdentifiers":[{"hashedPhoneNumber":"a8acc3a90a7b4e4dc65e93db9240ed26523050ef754d63b75b5161de76781436"}],`+tail)
	f("national phone without a default country is left out", testBuilder(), func(c *conversions.Conversion) {
		c.User = conversions.User{Email: "john.smith@gmail.com", Phone: "07700 900123"}
	}, head+`"gclid":"Cj0KCQiA…","userIdentifiers":[`+email+`],`+tail)
	f("already hashed values pass through lower-cased", testBuilder(), func(c *conversions.Conversion) {
		c.User = conversions.User{Email: "3586DE92BB3636D0885A12EFF961429A32E4EBD764B96F50D85D016F9338D586", Phone: " 1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8 "}
	}, head+`"gclid":"Cj0KCQiA…","userIdentifiers":[`+email+`,`+phone+`],`+tail)
	f("blank and junk identifiers are absent, never sha256(\"\")", testBuilder(), func(c *conversions.Conversion) {
		c.User = conversions.User{Email: "   ", Phone: "n/a", FirstName: "Mary", City: "Menlo Park", IP: "203.0.113.9", UserAgent: "Mozilla"}
	}, head+`"gclid":"Cj0KCQiA…",`+tail)
	f("not an email address", testBuilder(), func(c *conversions.Conversion) {
		c.User = conversions.User{Email: "john smith", Phone: "+16505551212"}
	}, head+`"gclid":"Cj0KCQiA…","userIdentifiers":[`+phone+`],`+tail)

	// Click ids: only one, gclid first.
	f("gclid wins over braids", testBuilder(), func(c *conversions.Conversion) {
		c.Clicks = conversions.Clicks{Gclid: "G1", Gbraid: "GB", Wbraid: "WB"}
	}, head+`"gclid":"G1","userIdentifiers":[`+email+`,`+phone+`],`+tail)
	f("gbraid over wbraid", testBuilder(), func(c *conversions.Conversion) {
		c.Clicks = conversions.Clicks{Gbraid: "GB", Wbraid: "WB"}
	}, head+`"gbraid":"GB","userIdentifiers":[`+email+`,`+phone+`],`+tail)
	f("wbraid alone", testBuilder(), func(c *conversions.Conversion) {
		c.Clicks = conversions.Clicks{Wbraid: " WB "}
	}, head+`"wbraid":"WB","userIdentifiers":[`+email+`,`+phone+`],`+tail)
	f("identifiers only (enhanced conversions for leads)", testBuilder(), func(c *conversions.Conversion) {
		c.Clicks = conversions.Clicks{}
	}, head+`"userIdentifiers":[`+email+`,`+phone+`],`+tail)

	// Consent, value and time.
	f("unknown consent is omitted", testBuilder(), func(c *conversions.Conversion) {
		c.Consent = conversions.ConsentUnknown
	}, strings.TrimSuffix(head+`"gclid":"Cj0KCQiA…","userIdentifiers":[`+email+`,`+phone+`],`+tail, `,"consent":{"adUserData":"GRANTED","adPersonalization":"GRANTED"}}],"partialFailure":true}`)+`}],"partialFailure":true}`)
	f("no value, no currency", testBuilder(), func(c *conversions.Conversion) {
		c.HasValue, c.Value, c.Currency = false, 5, "EUR"
	}, head+`"gclid":"Cj0KCQiA…","userIdentifiers":[`+email+`,`+phone+`],"orderId":"ord_123","consent":{"adUserData":"GRANTED","adPersonalization":"GRANTED"}}],"partialFailure":true}`)
	f("zero value is sent; currency upper-cased", testBuilder(), func(c *conversions.Conversion) {
		c.Value, c.Currency = 0, "eur"
	}, head+`"gclid":"Cj0KCQiA…","userIdentifiers":[`+email+`,`+phone+`],"conversionValue":0.0,"currencyCode":"EUR",`+tail[strings.Index(tail, `"orderId"`):])
	f("fractional value; no currency", testBuilder(), func(c *conversions.Conversion) {
		c.Value, c.Currency = 12.5, ""
	}, head+`"gclid":"Cj0KCQiA…","userIdentifiers":[`+email+`,`+phone+`],"conversionValue":12.5,`+tail[strings.Index(tail, `"orderId"`):])
	f("local time is sent in UTC, seconds only", testBuilder(), func(c *conversions.Conversion) {
		c.OccurredAt = time.Date(2025, 1, 1, 2, 0, 0, 999e6, time.FixedZone("CEST", 2*3600))
	}, head+`"gclid":"Cj0KCQiA…","userIdentifiers":[`+email+`,`+phone+`],`+tail)

	// Configuration: test mode and the rule's conversion action.
	vo := testBuilder()
	vo.validateOnly = true
	f("validate_only", vo, nil, strings.TrimSuffix(head+`"gclid":"Cj0KCQiA…","userIdentifiers":[`+email+`,`+phone+`],`+tail, "}")+`,"validateOnly":true}`)
	f("event name as a numeric action id", testBuilder(), func(c *conversions.Conversion) {
		c.EventName = "555"
	}, strings.Replace(head, "123456789", "555", 1)+`"gclid":"Cj0KCQiA…","userIdentifiers":[`+email+`,`+phone+`],`+tail)
	f("event name as a resource name", testBuilder(), func(c *conversions.Conversion) {
		c.EventName = "customers/999-999-9999/conversionActions/7"
	}, strings.Replace(head, "customers/1231231234/conversionActions/123456789", "customers/9999999999/conversionActions/7", 1)+`"gclid":"Cj0KCQiA…","userIdentifiers":[`+email+`,`+phone+`],`+tail)
	f("other event names use the configured action", testBuilder(), func(c *conversions.Conversion) {
		c.EventName = "Purchase"
	}, head+`"gclid":"Cj0KCQiA…","userIdentifiers":[`+email+`,`+phone+`],`+tail)
	f("URLs are not HTML-escaped", testBuilder(), func(c *conversions.Conversion) {
		c.DedupID = "a&b<c>"
	}, head+`"gclid":"Cj0KCQiA…","userIdentifiers":[`+email+`,`+phone+`],"conversionValue":100.0,"currencyCode":"USD","orderId":"a&b<c>","consent":{"adUserData":"GRANTED","adPersonalization":"GRANTED"}}],"partialFailure":true}`)
}

func TestPayloadRefusals(t *testing.T) {
	f := func(edit func(*conversions.Conversion), want string) {
		t.Helper()
		c := documentedExample()
		edit(&c)
		_, err := testBuilder().conversion(c)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v, want it to contain %q", err, want)
		}
	}
	f(func(c *conversions.Conversion) {
		c.Clicks = conversions.Clicks{}
		c.User = conversions.User{FirstName: "Mary"}
	}, "nothing Google can match")
	f(func(c *conversions.Conversion) { c.Consent = conversions.ConsentDenied }, "consent denied")
	f(func(c *conversions.Conversion) { c.Consent = "maybe" }, "consent: unrecognised")
	f(func(c *conversions.Conversion) { c.DedupID = " " }, "dedup_id: required")
	f(func(c *conversions.Conversion) {
		c.DedupID = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
	}, "sha256 of an empty string")
	f(func(c *conversions.Conversion) { c.OccurredAt = time.Time{} }, "occurred_at: required")
	f(func(c *conversions.Conversion) { c.OccurredAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "occurred_at: year")
	f(func(c *conversions.Conversion) {
		c.Clicks.Gclid = "3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586"
	}, "gclid: looks like a SHA-256 digest")
	f(func(c *conversions.Conversion) { c.Clicks.Gclid = "a b" }, "gclid: not a click id")
	f(func(c *conversions.Conversion) { c.Clicks.Gclid = "\xff\xfe" }, "gclid: not a click id")
	f(func(c *conversions.Conversion) { c.Clicks.Gbraid, c.Clicks.Gclid = "a\x00b", "" }, "gbraid: not a click id")
	f(func(c *conversions.Conversion) { c.Value = math.NaN() }, "value: NaN is not a finite number")
	f(func(c *conversions.Conversion) { c.Value = math.Inf(1) }, "value: +Inf is not a finite number")
	f(func(c *conversions.Conversion) { c.Currency = "dollars" }, "currency: want an ISO 4217 code")
}

func TestDoubleEncoding(t *testing.T) {
	f := func(v float64, want string) {
		t.Helper()
		b, err := double(v).MarshalJSON()
		if err != nil || string(b) != want {
			t.Fatalf("double(%v) = %s, %v; want %s", v, b, err, want)
		}
	}
	f(100, "100.0")
	f(0, "0.0")
	f(-3, "-3.0")
	f(19.99, "19.99")
	f(1e21, "1e+21")
	f(1e-7, "1e-07")
	f(123456789012, "123456789012.0")
}
