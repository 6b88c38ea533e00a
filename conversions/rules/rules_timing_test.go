package rules

import (
	"testing"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// BenchmarkMatches is a triggering event: three conditions and a property value.
func BenchmarkMatches(b *testing.B) {
	rules, err := parseRules(b, `
- id: paid
  trigger:
    event: subscription.created
    where:
      - {property: plan, operator: eq, value: pro}
      - {property: seats, operator: gte, value: 2}
      - {property: $current_url, operator: contains, value: /checkout}
  value: {source: property, key: amount, currency_key: currency, divide_by: 100}
  destinations: {meta: Purchase}
`, knownDestinations)
	if err != nil {
		b.Fatal(err)
	}
	r := &rules[0]
	ev := &canonical.Event{
		Name:        "subscription.created",
		Source:      "posthog",
		Lib:         "posthog-node",
		SecretToken: true,
		Properties:  []byte(`{"$lib":"posthog-node","$current_url":"https://app.example/checkout/done","plan":"pro","seats":3,"amount":4900,"currency":"usd","coupon":null}`),
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(ev.Properties)))
	for b.Loop() {
		if !r.Matches(ev) {
			b.Fatal("no match")
		}
		if _, _, ok := r.EventValue(ev); !ok {
			b.Fatal("no value")
		}
	}
}

// BenchmarkMatchesOtherEvent is the common case: an event no rule triggers on.
func BenchmarkMatchesOtherEvent(b *testing.B) {
	rules, err := parseRules(b, `
- {id: paid, trigger: {event: subscription.created, where: [{property: plan, operator: eq, value: pro}]}, destinations: {meta: Purchase}}
`, knownDestinations)
	if err != nil {
		b.Fatal(err)
	}
	r := &rules[0]
	ev := &canonical.Event{Name: "$pageview", Source: "posthog", Lib: "web", Properties: []byte(`{"plan":"pro"}`)}
	b.ReportAllocs()
	for b.Loop() {
		if r.Matches(ev) {
			b.Fatal("match")
		}
	}
}
