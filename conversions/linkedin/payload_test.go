package linkedin

import (
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/hashing"
)

var testNow = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func testConfig(t testing.TB) *Config {
	t.Helper()
	cfg := &Config{ConversionURN: "urn:lla:llaPartnerConversion:104012", AccessToken: "tok", Version: "202603"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// exampleConversion is the documented minimal example (docs/contracts/ad-platforms.md §5.2) as a Conversion, with
// the HS test email whose digest is in docs/contracts/ad-platforms.md §1.2.
func exampleConversion() conversions.Conversion {
	return conversions.Conversion{
		DedupID:    "ord_123",
		EventName:  "PURCHASE",
		OccurredAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		HasValue:   true, Value: 100, Currency: "USD",
		PageURL: "https://example.com/checkout",
		User: conversions.User{
			Email: "  Buyer@Example.COM ", FirstName: "Mike", LastName: "Smith",
			CompanyName: "Acme", Title: "CTO", Country: "us",
			Phone: "+16505551212", IP: "203.0.113.9", UserAgent: "Mozilla/5.0",
		},
		Clicks: conversions.Clicks{LiFatID: "a1b2c3d4-e5f6-4789-abcd-ef0123456789"},
	}
}

const exampleBody = `{"conversion":"urn:lla:llaPartnerConversion:104012",` +
	`"conversionHappenedAt":1767225600000,` +
	`"conversionValue":{"currencyCode":"USD","amount":"100.00"},` +
	`"eventId":"ord_123",` +
	`"user":{"userIds":[{"idType":"SHA256_EMAIL","idValue":"6a6c26195c3682faa816966af789717c3bfa834eee6c599d667d2b3429c27cfd"},` +
	`{"idType":"LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID","idValue":"a1b2c3d4-e5f6-4789-abcd-ef0123456789"}],` +
	`"userInfo":{"firstName":"Mike","lastName":"Smith","companyName":"Acme","title":"CTO","countryCode":"US"}}}`

func TestPayloadBytes(t *testing.T) {
	cfg := testConfig(t)
	f := func(name string, edit func(c *conversions.Conversion), want string) {
		t.Helper()
		c := exampleConversion()
		edit(&c)
		ev, err := buildEvent(&c, cfg, testNow)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := encodeSingle(ev)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(got) != want {
			t.Fatalf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	sub := func(old, new string) string {
		if !strings.Contains(exampleBody, old) {
			t.Fatalf("example body lacks %q", old)
		}
		return strings.Replace(exampleBody, old, new, 1)
	}
	const buyer = "6a6c26195c3682faa816966af789717c3bfa834eee6c599d667d2b3429c27cfd"

	// The documented example, byte for byte; phone, IP, UA and page URL have no
	// LinkedIn field and are not sent.
	f("documented example", func(c *conversions.Conversion) {}, exampleBody)
	// docs/contracts/ad-platforms.md §1.2: LinkedIn's email rule is trim + lower case, no gmail dot rule.
	f("meta doc email", func(c *conversions.Conversion) { c.User.Email = "John_Smith@gmail.com" },
		sub(buyer, "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"))
	f("gmail dots kept", func(c *conversions.Conversion) { c.User.Email = "John.Smith@Gmail.com" },
		sub(buyer, hashing.SHA256Hex("john.smith@gmail.com")))
	// A ready digest passes through lower-cased, never hashed again.
	f("prehashed email", func(c *conversions.Conversion) { c.User.Email = strings.ToUpper(buyer) }, exampleBody)
	// Only the click id.
	f("li_fat_id only", func(c *conversions.Conversion) { c.User.Email = "" },
		sub(`{"idType":"SHA256_EMAIL","idValue":"`+buyer+`"},`, ""))
	// Only the email, and a non-email is no identifier at all.
	f("email only", func(c *conversions.Conversion) { c.Clicks.LiFatID = "" },
		sub(`,{"idType":"LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID","idValue":"a1b2c3d4-e5f6-4789-abcd-ef0123456789"}`, ""))
	// userInfo needs both names, else it is left out.
	noInfo := sub(`,"userInfo":{"firstName":"Mike","lastName":"Smith","companyName":"Acme","title":"CTO","countryCode":"US"}`, "")
	f("first name only", func(c *conversions.Conversion) { c.User.LastName = " " }, noInfo)
	f("last name only", func(c *conversions.Conversion) { c.User.FirstName = "" }, noInfo)
	f("hashed name", func(c *conversions.Conversion) { c.User.FirstName = buyer }, noInfo)
	f("names only, trimmed", func(c *conversions.Conversion) {
		c.User.CompanyName, c.User.Title, c.User.Country, c.User.FirstName = "", "", "USA", " Mike "
	}, sub(`,"companyName":"Acme","title":"CTO","countryCode":"US"`, ""))
	// No value: no conversionValue; odd amounts keep their precision.
	f("no value", func(c *conversions.Conversion) { c.HasValue = false },
		sub(`"conversionValue":{"currencyCode":"USD","amount":"100.00"},`, ""))
	f("value 100.05 eur", func(c *conversions.Conversion) { c.Value, c.Currency = 100.05, "eur" },
		sub(`{"currencyCode":"USD","amount":"100.00"}`, `{"currencyCode":"EUR","amount":"100.05"}`))
	f("value 0.125", func(c *conversions.Conversion) { c.Value = 0.125 }, sub(`"100.00"`, `"0.125"`))
	f("value 0", func(c *conversions.Conversion) { c.Value = 0 }, sub(`"100.00"`, `"0.00"`))
	// Milliseconds, not seconds.
	f("ms precision", func(c *conversions.Conversion) { c.OccurredAt = c.OccurredAt.Add(1234 * time.Millisecond) },
		sub("1767225600000", "1767225601234"))
	// Names are written as given, without HTML escaping.
	f("html chars", func(c *conversions.Conversion) { c.User.CompanyName = "A&B <Ltd>" }, sub(`"Acme"`, `"A&B <Ltd>"`))
}

// externalIds exist from 202410 on; older versions would refuse the field.
func TestPayloadExternalIDs(t *testing.T) {
	f := func(version, want string) {
		t.Helper()
		cfg := &Config{ConversionURN: "1", AccessToken: "tok", Version: version}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		c := exampleConversion()
		c.User = conversions.User{ExternalID: " user-42 "}
		ev, err := buildEvent(&c, cfg, testNow)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := encodeSingle(ev)
		if got := string(b)[strings.Index(string(b), `"user"`):]; got != want {
			t.Fatalf("%s: got %s want %s", version, got, want)
		}
	}
	lifat := `{"idType":"LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID","idValue":"a1b2c3d4-e5f6-4789-abcd-ef0123456789"}`
	f("202410", `"user":{"userIds":[`+lifat+`],"externalIds":["user-42"]}}`)
	f("202409", `"user":{"userIds":[`+lifat+`]}}`)
}

func TestPayloadBatchBytes(t *testing.T) {
	cfg := testConfig(t)
	a, b := exampleConversion(), exampleConversion()
	b.DedupID, b.HasValue, b.User = "ord_124", false, conversions.User{}
	var evs []event
	for _, c := range []*conversions.Conversion{&a, &b} {
		ev, err := buildEvent(c, cfg, testNow)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	got, err := encodeBatch(evs)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"elements":[` + exampleBody + `,{"conversion":"urn:lla:llaPartnerConversion:104012","conversionHappenedAt":1767225600000,` +
		`"eventId":"ord_124","user":{"userIds":[{"idType":"LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID","idValue":"a1b2c3d4-e5f6-4789-abcd-ef0123456789"}]}}]}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// Conversions LinkedIn would refuse are refused before sending.
func TestPayloadRefusals(t *testing.T) {
	cfg := testConfig(t)
	f := func(edit func(c *conversions.Conversion), want string) {
		t.Helper()
		c := exampleConversion()
		edit(&c)
		_, err := buildEvent(&c, cfg, testNow)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want an error containing %q", err, want)
		}
	}
	noIDs := func(c *conversions.Conversion) { c.User.Email, c.Clicks.LiFatID = "", "" }
	f(noIDs, "needs at least one user id")
	// userInfo alone is not enough (LinkedIn answers 422).
	f(func(c *conversions.Conversion) { noIDs(c); c.User.FirstName, c.User.LastName = "Mike", "Smith" }, "needs at least one user id")
	f(func(c *conversions.Conversion) { noIDs(c); c.User.Email = "not-an-email" }, "needs at least one user id")
	f(func(c *conversions.Conversion) { noIDs(c); c.Clicks.LiFatID = strings.Repeat("ab", 32) }, "needs at least one user id")
	f(func(c *conversions.Conversion) { c.OccurredAt = testNow.Add(-MaxAge - time.Second) }, "older than LinkedIn's 90-day window")
	f(func(c *conversions.Conversion) { c.OccurredAt = time.Time{} }, "occurred_at: required")
	f(func(c *conversions.Conversion) { c.DedupID = "" }, "dedup_id: required")
	f(func(c *conversions.Conversion) { c.DedupID = strings.Repeat("x", 65) }, "at most 64")
	f(func(c *conversions.Conversion) { c.DedupID = hashing.EmptyDigest }, "sha256 of the empty string")
	f(func(c *conversions.Conversion) { c.Currency = "" }, "currency")
	f(func(c *conversions.Conversion) { c.Currency = "US$" }, "currency")
	f(func(c *conversions.Conversion) { c.Value = -1 }, "value")
	f(func(c *conversions.Conversion) { c.Consent = conversions.ConsentDenied }, "consent: denied")

	// The edge of the window is still inside it; granted consent changes nothing.
	c := exampleConversion()
	c.OccurredAt, c.Consent = testNow.Add(-MaxAge), conversions.ConsentGranted
	if _, err := buildEvent(&c, cfg, testNow); err != nil {
		t.Fatalf("90 days exactly: %v", err)
	}
}
