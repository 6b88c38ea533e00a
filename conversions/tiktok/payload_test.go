package tiktok

import (
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/hashing"
)

// exampleTime is the documented example's event_time, 2026-01-01T00:00:00Z.
var exampleTime = time.Unix(1767225600, 0).UTC()

func testBuilder() builder {
	return builder{pixelCode: "CABCD1234567890", maxAge: 7 * 24 * time.Hour}
}

// conv is a minimal valid conversion: a ttclid and nothing else.
func conv() conversions.Conversion {
	return conversions.Conversion{
		DedupID:    "d1",
		EventName:  "Purchase",
		OccurredAt: exampleTime,
		Clicks:     conversions.Clicks{Ttclid: "E.C.P.abc"},
	}
}

func TestPayloadBytes(t *testing.T) {
	f := func(name string, b builder, c conversions.Conversion, want string) {
		t.Helper()
		ev, err := b.event(c, exampleTime.Add(time.Hour))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := b.body([]event{ev})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(got) != want {
			t.Fatalf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	const head = `{"event_source":"web","event_source_id":"CABCD1234567890","data":[{"event":"Purchase","event_time":1767225600,"event_id":"d1",`

	// docs/contracts/ad-platforms.md §4.2, from raw identifiers: the §1.2 email and phone vectors. Hogsend
	// has no contents or referrer, so those keys of the example are absent.
	b := testBuilder()
	b.testEventCode, b.phoneCountry = "TEST38291", "1"
	c := conversions.Conversion{
		DedupID: "ord_123", EventName: "CompletePayment", OccurredAt: exampleTime,
		HasValue: true, Value: 42.5, Currency: "USD", OrderID: "ord_123",
		PageURL: "https://shop.example/thanks",
		User: conversions.User{
			Email: "  Buyer@Example.COM ", Phone: "(650)555-1212", ExternalID: "User-42",
			IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11)",
		},
		Clicks: conversions.Clicks{Ttclid: "E.C.P.abc", Ttp: "2Hcxyz"},
	}
	f("documented minimal example", b, c, `{"event_source":"web","event_source_id":"CABCD1234567890","test_event_code":"TEST38291",`+
		`"data":[{"event":"CompletePayment","event_time":1767225600,"event_id":"ord_123",`+
		`"user":{"email":"6a6c26195c3682faa816966af789717c3bfa834eee6c599d667d2b3429c27cfd",`+
		`"phone":"1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8",`+
		`"external_id":"6d894aa3ee802549d7f340e7c1cf0d1c1cb14cd84f768d92ffaa6785337c4997",`+
		`"ttclid":"E.C.P.abc","ttp":"2Hcxyz","ip":"203.0.113.7","user_agent":"Mozilla/5.0 (X11)"},`+
		`"properties":{"currency":"USD","value":42.5,"order_id":"ord_123"},`+
		`"page":{"url":"https://shop.example/thanks"}}]}`)

	c = conv()
	c.Clicks = conversions.Clicks{}
	c.User.Email = "John_Smith@gmail.com"
	c.Consent = conversions.ConsentGranted
	f("documented email, consent granted", testBuilder(), c,
		head+`"user":{"email":"62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"},"limited_data_use":false}]}`)

	c = conv()
	c.Clicks = conversions.Clicks{}
	c.User.Phone = "+44 7700 900123"
	f("documented phone E.164", testBuilder(), c,
		head+`"user":{"phone":"a8acc3a90a7b4e4dc65e93db9240ed26523050ef754d63b75b5161de76781436"}}]}`)

	b = testBuilder()
	b.phoneCountry = "44"
	c.User.Phone = "07700 900123"
	f("national phone with default country", b, c,
		head+`"user":{"phone":"a8acc3a90a7b4e4dc65e93db9240ed26523050ef754d63b75b5161de76781436"}}]}`)

	c = conv()
	c.Clicks = conversions.Clicks{}
	c.User.Email = " 62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F"
	f("digest passed through lower-cased", testBuilder(), c,
		head+`"user":{"email":"62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"}}]}`)

	c = conv()
	c.User = conversions.User{FirstName: " Mary Ann", LastName: "O'Brien", Zip: "94025-1234", City: "San Francisco", State: "CA", Country: "US"}
	f("names hashed, address plain", testBuilder(), c, head+`"user":{"ttclid":"E.C.P.abc",`+
		`"first_name":"16b3f07f0ec2f9dd127b71dc2e6c791b7d93116a1c3bc99d057eaa7a8a077e73",`+
		`"last_name":"65b87174be3b1b122e2b0929f0b84888637d31a4a83bb96a860bcff411f5e668",`+
		`"zip_code":"b9a9cf3cd3723a2e91b7c23ecf68456e872b6e5d86e5cab7f3d45a7302da32c7",`+
		`"city":"sanfrancisco","state":"ca","country":"us"}}]}`)

	c = conv()
	c.Clicks = conversions.Clicks{}
	c.PageURL = "https://shop.example/?ttclid=E.C.P.q&x=1"
	f("ttclid from the page url", testBuilder(), c,
		head+`"user":{"ttclid":"E.C.P.q"},"page":{"url":"https://shop.example/?ttclid=E.C.P.q&x=1"}}]}`)

	c = conv()
	c.User = conversions.User{Email: "   ", Phone: "n/a", FirstName: " ", ExternalID: hashing.EmptyDigest, IP: "not-an-ip"}
	f("blank and junk never hashed", testBuilder(), c, head+`"user":{"ttclid":"E.C.P.abc"}}]}`)

	c = conv()
	digest := hashing.SHA256Hex("x")
	c.User = conversions.User{City: digest, Country: digest, IP: "::ffff:203.0.113.7"}
	f("digests dropped from plain fields", testBuilder(), c, head+`"user":{"ttclid":"E.C.P.abc","ip":"203.0.113.7"}}]}`)

	c = conv()
	c.HasValue, c.Currency = true, "EUR"
	f("zero value is sent", testBuilder(), c, head+`"user":{"ttclid":"E.C.P.abc"},"properties":{"currency":"EUR","value":0}}]}`)

	c = conv()
	c.PageURL = "/relative"
	c.Consent = conversions.ConsentUnknown
	f("relative page url and unknown consent omitted", testBuilder(), c, head+`"user":{"ttclid":"E.C.P.abc"}}]}`)
}

func TestPayloadRefuses(t *testing.T) {
	now := exampleTime.Add(time.Hour)
	f := func(name string, edit func(*conversions.Conversion), want string) {
		t.Helper()
		c := conv()
		edit(&c)
		_, err := testBuilder().event(c, now)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: got %v, want an error containing %q", name, err, want)
		}
	}
	f("consent denied", func(c *conversions.Conversion) { c.Consent = conversions.ConsentDenied }, "consent denied")
	f("odd consent", func(c *conversions.Conversion) { c.Consent = "maybe" }, "consent: unknown value")
	f("no event name", func(c *conversions.Conversion) { c.EventName = " " }, "event_name: required")
	f("no dedup id", func(c *conversions.Conversion) { c.DedupID = "" }, "dedup_id: required")
	f("no time", func(c *conversions.Conversion) { c.OccurredAt = time.Time{} }, "occurred_at: required")
	f("too old", func(c *conversions.Conversion) { c.OccurredAt = now.Add(-7*24*time.Hour - time.Second) }, "older than the 168h0m0s window")
	f("future", func(c *conversions.Conversion) { c.OccurredAt = now.Add(10 * time.Minute) }, "in the future")
	f("no identifier", func(c *conversions.Conversion) {
		c.Clicks = conversions.Clicks{}
		c.User = conversions.User{IP: "203.0.113.7", UserAgent: "UA", Email: "not an email"}
	}, "no identifier")
	f("negative value", func(c *conversions.Conversion) { c.HasValue, c.Value, c.Currency = true, -1, "USD" }, "value:")
	f("bad currency", func(c *conversions.Conversion) { c.HasValue, c.Value, c.Currency = true, 1, "usd" }, "currency:")

	// At the edges of the window the conversion passes.
	c := conv()
	c.OccurredAt = now.Add(-7 * 24 * time.Hour)
	if _, err := testBuilder().event(c, now); err != nil {
		t.Fatalf("exactly 7 days old: %v", err)
	}
}
