package rules

import (
	"testing"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

func TestRuleMatches(t *testing.T) {
	rules, err := parseRules(t, `
- id: paid
  trigger:
    event: subscription.created
    where:
      - {property: plan, operator: eq, value: pro}
      - {property: value, operator: gte, value: 10}
  destinations: {meta: Purchase}
- id: any_source
  trigger: {event: signup}
  sources: any
  destinations: {meta: Lead}
- id: listed
  trigger: {event: signup}
  sources: [api, posthog-web]
  destinations: {meta: Lead}
`, knownDestinations)
	if err != nil {
		t.Fatal(err)
	}
	paid, anySource, listed := &rules[0], &rules[1], &rules[2]
	f := func(r *Rule, ev canonical.Event, want bool) {
		t.Helper()
		if got := r.Matches(&ev); got != want {
			t.Fatalf("rule %s on %+v = %v, want %v", r.ID, ev, got, want)
		}
	}
	pro := []byte(`{"plan":"pro"}`)
	f(paid, canonical.Event{Name: "subscription.created", Source: "api", Properties: pro, HasValue: true, Value: 10}, true)
	f(paid, canonical.Event{Name: "subscription.created", Source: "api", Properties: pro, HasValue: true, Value: 9.99}, false) // AND
	f(paid, canonical.Event{Name: "subscription.created", Source: "api", Properties: []byte(`{"plan":"free"}`), HasValue: true, Value: 10}, false)
	f(paid, canonical.Event{Name: "subscription.created", Source: "api", Properties: pro}, false)
	f(paid, canonical.Event{Name: "subscription.updated", Source: "api", Properties: pro, HasValue: true, Value: 10}, false)
	f(paid, canonical.Event{Name: "Subscription.created", Source: "api", Properties: pro, HasValue: true, Value: 10}, false)
	f(paid, canonical.Event{Name: "subscription.created", Source: "api", Properties: pro, HasValue: true, Value: 10, Historical: true}, false)
	// The default sources: not from a browser.
	f(paid, canonical.Event{Name: "subscription.created", Source: "inapp", Properties: pro, HasValue: true, Value: 10}, false)
	f(paid, canonical.Event{Name: "subscription.created", Source: "posthog", Lib: "web", Properties: pro, HasValue: true, Value: 10}, false)
	f(paid, canonical.Event{Name: "subscription.created", Source: "posthog", Lib: "posthog-node", Properties: pro, HasValue: true, Value: 10}, false) // public token
	f(paid, canonical.Event{Name: "subscription.created", Source: "posthog", Lib: "posthog-node", SecretToken: true, Properties: pro, HasValue: true, Value: 10}, true)
	f(paid, canonical.Event{Name: "subscription.created", Source: "crm", Properties: pro, HasValue: true, Value: 10}, true)

	f(anySource, canonical.Event{Name: "signup", Source: "inapp"}, true)
	f(anySource, canonical.Event{Name: "signup", Source: "posthog", Lib: "posthog-js-lite"}, true)
	f(anySource, canonical.Event{Name: "signup", Source: "inapp", Historical: true}, false)

	f(listed, canonical.Event{Name: "signup", Source: "api"}, true)
	f(listed, canonical.Event{Name: "signup", Source: "posthog", Lib: "web"}, true)
	f(listed, canonical.Event{Name: "signup", Source: "posthog", Lib: "posthog-python", SecretToken: true}, false)
	f(listed, canonical.Event{Name: "signup", Source: "inapp"}, false)

	// No conditions: the name and source decide.
	f(&Rule{Event: "x"}, canonical.Event{Name: "x", Source: "api"}, true)
	f(&Rule{Event: "x"}, canonical.Event{Name: "x"}, true)
}
