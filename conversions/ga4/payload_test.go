package ga4

import (
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

var testNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// bodies builds the request bodies of convs as Send would, failing on a
// rejection.
func bodies(t *testing.T, b builder, convs ...conversions.Conversion) []string {
	t.Helper()
	var items []item
	for _, c := range convs {
		it, err := b.item(c, testNow)
		if err != nil {
			t.Fatalf("item(%+v): %v", c, err)
		}
		items = append(items, it)
	}
	reqs, _ := group(items, MaxBatch)
	var out []string
	for _, r := range reqs {
		body, err := encode(r)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		out = append(out, string(body))
	}
	return out
}

func TestPayload(t *testing.T) {
	at := testNow.Add(-time.Hour) // 1773140400000000 µs
	f := func(name string, b builder, want []string, convs ...conversions.Conversion) {
		t.Helper()
		got := bodies(t, b, convs...)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\ngot  %s\nwant %s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}

	// The documented minimal request: client_id, timestamp_micros, one event.
	f("minimal", builder{}, []string{
		`{"client_id":"contact-1","timestamp_micros":1773140400000000,"events":[{"name":"generate_lead","params":{"transaction_id":"d1","engagement_time_msec":1}}]}`,
	}, conversions.Conversion{DedupID: "d1", EventName: "generate_lead", ContactID: "contact-1", OccurredAt: at})

	// docs/contracts/ad-platforms.md §1.2 vectors: gmail dots removed (3586…), Google phone form
	// (+16505551212 → 1e23…), "mary" (6915…); plain location fields;
	// consent granted; _ga client id preferred over the contact id.
	f("full", builder{phoneCountry: "1"}, []string{
		`{"client_id":"123.456","user_id":"ext-9","timestamp_micros":1773140400000000,` +
			`"consent":{"ad_user_data":"GRANTED","ad_personalization":"GRANTED"},` +
			`"user_data":{"sha256_email_address":["3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586"],` +
			`"sha256_phone_number":["1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8"],` +
			`"address":[{"sha256_first_name":"6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec",` +
			`"city":"menlo park","region":"ca","postal_code":"94025","country":"US"}]},` +
			`"events":[{"name":"purchase","params":{"transaction_id":"d1","value":9.99,"currency":"USD","engagement_time_msec":1,"page_location":"https://example.com/a?b=1&c=2"}}]}`,
	}, conversions.Conversion{
		DedupID: "d1", EventName: "purchase", ContactID: "contact-1", OccurredAt: at,
		HasValue: true, Value: 9.99, Currency: "USD", PageURL: "https://example.com/a?b=1&c=2",
		Consent: conversions.ConsentGranted,
		User: conversions.User{
			Email: " John.Smith@gmail.com ", Phone: "(650) 555-1212", FirstName: " Mary ",
			City: "Menlo Park", State: "CA", Zip: "94025", Country: "us", ExternalID: "ext-9",
		},
		Clicks: conversions.Clicks{GAClientID: "123.456"},
	})

	// A pre-hashed email passes through lower-cased; an empty or
	// whitespace-only value is absent, never sha256("").
	f("prehashed and empty", builder{}, []string{
		`{"client_id":"c","timestamp_micros":1773140400000000,"user_data":{"sha256_email_address":["6a6c26195c3682faa816966af789717c3bfa834eee6c599d667d2b3429c27cfd"]},"events":[{"name":"sign_up","params":{"transaction_id":"d1","engagement_time_msec":1}}]}`,
	}, conversions.Conversion{
		DedupID: "d1", EventName: "sign_up", ContactID: "c", OccurredAt: at,
		User: conversions.User{Email: "6A6C26195C3682FAA816966AF789717C3BFA834EEE6C599D667D2B3429C27CFD", FirstName: "  ", Phone: "07700 900123"},
	})

	// Same person: one request, the later event overriding the time; a
	// different person: another request.
	f("grouping", builder{}, []string{
		`{"client_id":"a","timestamp_micros":1773140400000000,"events":[` +
			`{"name":"purchase","params":{"transaction_id":"d1","engagement_time_msec":1}},` +
			`{"name":"purchase","timestamp_micros":1773144000000000,"params":{"transaction_id":"d3","engagement_time_msec":1}}]}`,
		`{"client_id":"b","timestamp_micros":1773140400000000,"events":[{"name":"purchase","params":{"transaction_id":"d2","engagement_time_msec":1}}]}`,
	},
		conversions.Conversion{DedupID: "d1", EventName: "purchase", ContactID: "a", OccurredAt: at},
		conversions.Conversion{DedupID: "d2", EventName: "purchase", ContactID: "b", OccurredAt: at},
		conversions.Conversion{DedupID: "d3", EventName: "purchase", ContactID: "a", OccurredAt: testNow},
	)
}

func TestValidateRejects(t *testing.T) {
	ok := conversions.Conversion{DedupID: "d1", EventName: "purchase", ContactID: "c", OccurredAt: testNow.Add(-time.Hour)}
	f := func(name string, mut func(*conversions.Conversion), want string) {
		t.Helper()
		c := ok
		mut(&c)
		_, err := builder{}.item(c, testNow)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to contain %q", name, err, want)
		}
	}
	f("too old", func(c *conversions.Conversion) { c.OccurredAt = testNow.Add(-73 * time.Hour) }, "older than")
	f("future", func(c *conversions.Conversion) { c.OccurredAt = testNow.Add(time.Hour) }, "future")
	f("no client id", func(c *conversions.Conversion) { c.ContactID = "" }, "client_id")
	f("denied", func(c *conversions.Conversion) { c.Consent = conversions.ConsentDenied }, "consent denied")
	f("long name", func(c *conversions.Conversion) { c.EventName = strings.Repeat("a", 41) }, "longer than 40")
	f("reserved name", func(c *conversions.Conversion) { c.EventName = "session_start" }, "reserved")
	f("reserved prefix", func(c *conversions.Conversion) { c.EventName = "ga_purchase" }, "reserved prefix")
	f("bad name", func(c *conversions.Conversion) { c.EventName = "1purchase" }, "start with a letter")
	f("no dedup", func(c *conversions.Conversion) { c.DedupID = "" }, "transaction_id")
	f("value without currency", func(c *conversions.Conversion) { c.HasValue, c.Value = true, 5 }, "currency")
	if _, err := (builder{}).item(ok, testNow); err != nil {
		t.Fatalf("valid conversion rejected: %v", err)
	}
}
