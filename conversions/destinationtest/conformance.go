// Package destinationtest is the conformance suite every platform client
// runs against its strict fake: the same cases, the same assertions, so the
// six clients cannot drift apart in what they promise the dispatcher
// (docs/contracts/ad-platforms.md §1.3).
package destinationtest

import (
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// Pair is a client pointed at a fresh fake.
type Pair struct {
	Client conversions.Destination
	Script *fakeads.Script
	Ledger *fakeads.Ledger
	// Requests are the requests the fake received, in order.
	Requests func() []fakeads.Request
	// Close stops the fake, so that the next request gets no answer.
	Close func()
}

// Refusal is a platform's answer in its own error shape and the class it
// must produce.
type Refusal struct {
	Fault fakeads.Fault
	Class conversions.Class
}

// Platform describes one client for the suite.
type Platform struct {
	// Start returns a client and its fake; the client's config has timeout
	// as its Timeout. The fake is closed when the test ends.
	Start func(t *testing.T, timeout conversions.Timeout) Pair
	// Conversion is a valid conversion numbered n: distinct n, distinct
	// dedup id; the same n, the same conversion.
	Conversion func(n int) conversions.Conversion
	// Invalid is a conversion the client refuses before sending.
	Invalid func(n int) conversions.Conversion
	// Secrets must never appear in a reason (tokens, API secrets).
	Secrets []string
	// RateLimited is a 429 whose Retry-After says 7 seconds.
	RateLimited fakeads.Fault
	// ServerError is a 5xx in the platform's shape.
	ServerError fakeads.Fault
	// Permanent is a refusal (in the platform's shape) no retry can fix.
	Permanent Refusal
}

// Run runs every case against p.
func Run(t *testing.T, p Platform) {
	cases := []struct {
		name string
		run  func(*testing.T, Platform)
	}{
		{"Success", testSuccess},
		{"SameDedupIDCountedOnce", testDedup},
		{"PartialFailure", testPartialFailure},
		{"Permanent4xx", testPermanent},
		{"RateLimitedRetryAfter", testRateLimited},
		{"ServerErrorRetries", testServerError},
		{"SlowAnswerTimesOut", testTimeout},
		{"NoAnswerRetries", testNoAnswer},
		{"SecretsRedacted", testRedaction},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, p) })
	}
}

// Conversion is the shared test conversion: every identifier a platform may
// match on, at occurred, numbered n (dedup id, email and click ids differ
// by n). Platforms take what they use.
func Conversion(n int, eventName string, occurred time.Time) conversions.Conversion {
	id := itoa(n)
	return conversions.Conversion{
		DedupID:    conversions.DedupID("contact-"+id, "rule-1", "event-"+id),
		RuleID:     "rule-1",
		EventID:    "0190e0a0-0000-7000-8000-" + pad12(n),
		ContactID:  "0190e0a0-0000-7000-8000-00000000c0c0",
		EventName:  eventName,
		OccurredAt: occurred.UTC(),
		HasValue:   true, Value: 49.5, Currency: "USD",
		PageURL: "https://shop.example/thanks",
		User: conversions.User{
			Email: "Buyer" + id + "@Example.com", Phone: "+1 650 555 1212",
			FirstName: "Ada", LastName: "Lovelace", Country: "US",
			ExternalID: "u-" + id, IP: "203.0.113.7", UserAgent: "Mozilla/5.0",
		},
		Clicks: conversions.Clicks{
			Gclid: "Cj0KCQiAclick" + id, At: occurred.Add(-6 * time.Hour).UTC(),
			Fbc: "fb.1.1767000000000.IwAR" + id, Fbp: "fb.1.1766000000000.1098115397",
			Ttclid: "E.C.P." + id, LiFatID: "a1b2c3d4-0000-4000-8000-" + pad12(n),
			RdtCid: "cid-" + id, GAClientID: "12345" + id + ".1767000000",
		},
	}
}
