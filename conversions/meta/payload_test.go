package meta

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/hashing"
)

// Digests of the documented docs/contracts/ad-platforms.md §1.2 vectors and of a few normalised inputs.
const (
	emJohn    = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f" // john_smith@gmail.com
	phUS      = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176" // 16505551212
	emBuyer   = "6a6c26195c3682faa816966af789717c3bfa834eee6c599d667d2b3429c27cfd" // buyer@example.com
	phUK      = "033134b911b137918338415ee3d20a064b24773d36a3b02e8b99fdd3fcd6b4cd" // 447700900123
	fnMary    = "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec" // mary
	countryUS = "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621" // us
	lnObrien  = "b4cb6cb33fe4b865868de825023a1e2790dc12ac01ecc8d7c5afe8254071c8ba" // obrien
	ctSF      = "1a6bd4d9d79dc0a79b53795c70d3349fa9e38968a3fbefbfe8783efb1d2b6aac" // sanfrancisco
	stCA      = "6959097001d10501ac7d54c0bdb8db61420f658f2922cc26e46d536119a31126" // ca
	zp94025   = "b9a9cf3cd3723a2e91b7c23ecf68456e872b6e5d86e5cab7f3d45a7302da32c7" // 94025
	extUser42 = "fafe5e551759817bdc65038b8cb1a8263b1a8b3b60c269d67ff0f8c57ae0f733" // User-42
	emptySHA  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	dedupID   = "285789bc7452d9ed50ce527078c787edcd37817655072b8eb171e5906b5b4f6c" // DedupID("contact-1","rule-1","event-1")
)

// t0 is the documented example's event_time, 2026-01-01T00:00:00Z.
var t0 = time.Unix(1767225600, 0).UTC()

// exampleConversion is the conversion behind the documented minimal example (docs/contracts/ad-platforms.md §2.2).
func exampleConversion() conversions.Conversion {
	return conversions.Conversion{
		DedupID:    conversions.DedupID("contact-1", "rule-1", "event-1"),
		EventName:  "Purchase",
		OccurredAt: t0,
		HasValue:   true, Value: 142.52, Currency: "USD", OrderID: "ord_123",
		PageURL: "https://shop.example/checkout/thanks",
		User: conversions.User{
			Email: "John_Smith@gmail.com", Phone: "+1 (650) 555-1212",
			IP: "203.0.113.7", UserAgent: "Mozilla/5.0 …",
		},
		Clicks: conversions.Clicks{Fbc: "fb.1.1767000000000.IwAR2F4-dbP0l7Mn", Fbp: "fb.1.1766000000000.1098115397"},
	}
}

func TestSpecMinimalExample(t *testing.T) {
	ev, err := builder{}.event(exampleConversion(), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got, err := encode([]event{ev}, "TEST12345", "EAAB…")
	if err != nil {
		t.Fatal(err)
	}
	// The documented example without contents/content_type, which a Conversion
	// does not carry.
	want := `{"data":[{"event_name":"Purchase","event_time":1767225600,"event_id":"` + dedupID + `",` +
		`"action_source":"website","event_source_url":"https://shop.example/checkout/thanks",` +
		`"user_data":{"em":["` + emJohn + `"],"ph":["` + phUS + `"],` +
		`"client_ip_address":"203.0.113.7","client_user_agent":"Mozilla/5.0 …",` +
		`"fbc":"fb.1.1767000000000.IwAR2F4-dbP0l7Mn","fbp":"fb.1.1766000000000.1098115397"},` +
		`"custom_data":{"currency":"USD","value":142.52,"order_id":"ord_123"}}],` +
		`"test_event_code":"TEST12345","access_token":"EAAB…"}`
	if string(got) != want {
		t.Fatalf("body\n got %s\nwant %s", got, want)
	}
}

func TestEventJSON(t *testing.T) {
	now := t0.Add(time.Hour)
	f := func(b builder, c conversions.Conversion, want string) {
		t.Helper()
		ev, err := b.event(c, now)
		if err != nil {
			t.Fatalf("event: %v", err)
		}
		body, err := encode([]event{ev}, "", "tok")
		if err != nil {
			t.Fatal(err)
		}
		got := strings.TrimSuffix(strings.TrimPrefix(string(body), `{"data":[`), `],"access_token":"tok"}`)
		if got != want {
			t.Fatalf("event\n got %s\nwant %s", got, want)
		}
	}
	base := func(u conversions.User) conversions.Conversion {
		return conversions.Conversion{DedupID: "d1", EventName: "Lead", OccurredAt: t0, User: u}
	}
	head := `{"event_name":"Lead","event_time":1767225600,"event_id":"d1","action_source":"system_generated",`

	// docs/contracts/ad-platforms.md §1.2 vectors: Hogsend's test inputs, Meta's phone form, fn and country.
	f(builder{}, base(conversions.User{Email: "  Buyer@Example.COM ", Phone: "+44 7700 900123", FirstName: "Mary", Country: "US"}),
		head+`"user_data":{"em":["`+emBuyer+`"],"ph":["`+phUK+`"],"fn":["`+fnMary+`"],"country":["`+countryUS+`"]}}`)

	// A national number takes the configured calling code.
	f(builder{phoneCountry: "1"}, base(conversions.User{Phone: "(650)555-1212"}),
		head+`"user_data":{"ph":["`+phUS+`"]}}`)

	// Names lose punctuation, city and state spaces, ZIP+4 its suffix; the
	// external id is trimmed, case kept, and hashed.
	f(builder{}, base(conversions.User{LastName: " O'Brien ", City: "San Francisco", State: "CA", Zip: "94025-1234", ExternalID: " User-42 "}),
		head+`"user_data":{"ln":["`+lnObrien+`"],"ct":["`+ctSF+`"],"st":["`+stCA+`"],"zp":["`+zp94025+`"],"external_id":["`+extUser42+`"]}}`)

	// A digest passes through lower-cased; sha256("") and blanks are absent.
	f(builder{}, base(conversions.User{Email: strings.ToUpper(emJohn), Phone: emptySHA, FirstName: "  ", IP: "198.51.100.4", UserAgent: "UA"}),
		head+`"user_data":{"em":["`+emJohn+`"],"client_ip_address":"198.51.100.4","client_user_agent":"UA"}}`)

	// fbc from fbclid and the click time, case kept; fbp as is.
	c := base(conversions.User{})
	c.Clicks = conversions.Clicks{Fbclid: "IwAR2F4-dbP0l7Mn", At: time.UnixMilli(1767000000000), Fbp: "fb.1.1766000000000.1098115397"}
	f(builder{}, c, head+`"user_data":{"fbc":"fb.1.1767000000000.IwAR2F4-dbP0l7Mn","fbp":"fb.1.1766000000000.1098115397"}}`)

	// An fbclid without its click time mints nothing; a malformed fbc or
	// one older than 90 days is dropped.
	c = base(conversions.User{Email: "a@b.co"})
	c.Clicks = conversions.Clicks{Fbclid: "IwAR", Fbc: "not-an-fbc"}
	f(builder{}, c, head+`"user_data":{"em":["`+sha("a@b.co")+`"]}}`)
	c.Clicks = conversions.Clicks{Fbc: "fb.1.1700000000000.Old"}
	f(builder{}, c, head+`"user_data":{"em":["`+sha("a@b.co")+`"]}}`)

	// A page URL without a user agent cannot be a web event; the URL still
	// goes along. Granted consent turns Limited Data Use off explicitly.
	c = base(conversions.User{Email: "a@b.co"})
	c.PageURL = "https://shop.example/a?b=1&c=2"
	c.Consent = conversions.ConsentGranted
	c.HasValue, c.Value, c.Currency = true, 0, "eur"
	f(builder{}, c, head+`"event_source_url":"https://shop.example/a?b=1&c=2","user_data":{"em":["`+sha("a@b.co")+`"]},`+
		`"custom_data":{"currency":"EUR","value":0},"data_processing_options":[]}`)

	// An invalid ip and a relative page URL are left out rather than fail
	// the batch; an IPv4-mapped address is sent as IPv4.
	c = base(conversions.User{Email: "a@b.co", IP: "10.0.0.1, 10.0.0.2", UserAgent: "UA"})
	c.PageURL = "/checkout"
	f(builder{}, c, head+`"user_data":{"em":["`+sha("a@b.co")+`"],"client_user_agent":"UA"}}`)
	c.User.IP = "::ffff:203.0.113.7"
	f(builder{}, c, head+`"user_data":{"em":["`+sha("a@b.co")+`"],"client_ip_address":"203.0.113.7","client_user_agent":"UA"}}`)

	// A configured action_source wins.
	c = base(conversions.User{Email: "a@b.co"})
	f(builder{actionSource: "physical_store"}, c,
		`{"event_name":"Lead","event_time":1767225600,"event_id":"d1","action_source":"physical_store","user_data":{"em":["`+sha("a@b.co")+`"]}}`)
}

func TestEventRefused(t *testing.T) {
	now := t0
	f := func(b builder, c conversions.Conversion, reason string) {
		t.Helper()
		_, err := b.event(c, now)
		if err == nil || !strings.Contains(err.Error(), reason) {
			t.Fatalf("got error %v, want one containing %q", err, reason)
		}
	}
	ok := func() conversions.Conversion {
		return conversions.Conversion{DedupID: "d", EventName: "Lead", OccurredAt: now, User: conversions.User{Email: "a@b.co"}}
	}
	c := ok()
	c.Consent = conversions.ConsentDenied
	f(builder{}, c, "consent denied")
	c = ok()
	c.EventName = " "
	f(builder{}, c, "event_name: required")
	c = ok()
	c.DedupID = ""
	f(builder{}, c, "event_id")
	c = ok()
	c.OccurredAt = time.Time{}
	f(builder{}, c, "event_time: occurred_at unknown")
	c = ok()
	c.OccurredAt = now.Add(-7*24*time.Hour - time.Second)
	f(builder{}, c, "at most 7 days")
	c.OccurredAt = now.Add(-63 * 24 * time.Hour)
	f(builder{actionSource: "physical_store"}, c, "at most 62 days")
	c = ok()
	c.OccurredAt = now.Add(2 * time.Minute)
	f(builder{}, c, "in the future")
	c = ok()
	c.User = conversions.User{IP: "203.0.113.7", FirstName: "Mary"}
	f(builder{}, c, "user_data: no identifier")
	c = ok()
	c.HasValue, c.Value, c.Currency = true, math.NaN(), "USD"
	f(builder{}, c, "custom_data.value")
	c = ok()
	c.HasValue, c.Value = true, 10
	f(builder{}, c, "custom_data.currency")
	c = ok()
	f(builder{actionSource: "website"}, c, "action_source website")
	c.PageURL, c.User.UserAgent = "shop.example/thanks", "UA"
	f(builder{actionSource: "website"}, c, "action_source website")
	c = ok()
	c.EventName = "Purchase"
	f(builder{}, c, "Purchase needs a value")

	// The edges of the window are accepted.
	c = ok()
	c.OccurredAt = now.Add(-7 * 24 * time.Hour)
	if _, err := (builder{}).event(c, now); err != nil {
		t.Fatalf("7 days exactly: %v", err)
	}
	c.OccurredAt = now.Add(-30 * 24 * time.Hour)
	if _, err := (builder{actionSource: "physical_store"}).event(c, now); err != nil {
		t.Fatalf("physical_store 30 days: %v", err)
	}
	c.OccurredAt = now.Add(time.Minute)
	if _, err := (builder{}).event(c, now); err != nil {
		t.Fatalf("a minute ahead: %v", err)
	}
}

// sha is the digest of an already normalised test input.
func sha(s string) string { return hashing.SHA256Hex(s) }
