package rules

import (
	"reflect"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var knownDestinations = map[string]bool{"meta": true, "google_ads": true, "tiktok": true, "linkedin": true, "reddit": true}

// parseRules parses src, the YAML text of the `rules:` sequence.
func parseRules(t testing.TB, src string, known map[string]bool) ([]Rule, error) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatalf("yaml %q: %v", src, err)
	}
	return Parse(&doc, known)
}

func TestParseExample(t *testing.T) {
	rules, err := parseRules(t, `
- id: paid_subscription
  trigger: {event: subscription.created, where: [{property: plan, operator: eq, value: pro}]}
  sources: [api, posthog]
  value: {source: property, key: amount, currency_key: currency, divide_by: 100}
  attribution_window: 720h
  destinations: {meta: Purchase, google_ads: purchase, tiktok: CompletePayment, linkedin: purchase, reddit: Purchase}
- id: signup
  trigger: {event: user.signed_up}
  destinations: {reddit: SignUp, meta: CompleteRegistration}
`, knownDestinations)
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{{
		ID:                "paid_subscription",
		Event:             "subscription.created",
		Where:             []Condition{{Property: "plan", Operator: "eq", Value: "pro"}},
		Sources:           Sources{Names: []string{"api", "posthog"}},
		Value:             ValueSpec{Source: "property", Key: "amount", CurrencyKey: "currency", DivideBy: 100},
		AttributionWindow: 720 * time.Hour,
		Destinations: []Destination{
			{"meta", "Purchase"}, {"google_ads", "purchase"}, {"tiktok", "CompletePayment"},
			{"linkedin", "purchase"}, {"reddit", "Purchase"},
		},
	}, {
		ID:                "signup",
		Event:             "user.signed_up",
		Value:             ValueSpec{Source: "event"},
		AttributionWindow: DefaultAttributionWindow,
		Destinations:      []Destination{{"reddit", "SignUp"}, {"meta", "CompleteRegistration"}},
	}}
	if !reflect.DeepEqual(rules, want) {
		t.Fatalf("got  %+v\nwant %+v", rules, want)
	}
}

func TestParseFields(t *testing.T) {
	// f parses one rule made of base plus extra and checks one part of it.
	f := func(extra string, get func(Rule) any, want any) {
		t.Helper()
		rules, err := parseRules(t, "- {id: r, trigger: {event: e}, destinations: {meta: Purchase}, "+extra+"}", knownDestinations)
		if err != nil {
			t.Fatalf("%s: %v", extra, err)
		}
		if got := get(rules[0]); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: got %#v, want %#v", extra, got, want)
		}
	}
	window := func(r Rule) any { return r.AttributionWindow }
	f("attribution_window: 30d", window, 30*24*time.Hour)
	f("attribution_window: 400d", window, MaxAttributionWindow)
	f("attribution_window: 1h30m", window, 90*time.Minute)
	f("attribution_window: 9600h", window, MaxAttributionWindow)

	sources := func(r Rule) any { return r.Sources }
	f("sources: any", sources, Sources{Any: true})
	f("sources: [inapp]", sources, Sources{Names: []string{"inapp"}})
	f("sources: [posthog-web, api, crm]", sources, Sources{Names: []string{"posthog-web", "api", "crm"}})

	value := func(r Rule) any { return r.Value }
	f("value: {}", value, ValueSpec{Source: "event"})
	f("value: {source: event}", value, ValueSpec{Source: "event"})
	f("value: {source: none}", value, ValueSpec{Source: "none"})
	f("value: {source: fixed, amount: 25, currency: eur}", value, ValueSpec{Source: "fixed", Amount: 25, Currency: "EUR"})
	f("value: {source: fixed, amount: -1.5, currency: USD}", value, ValueSpec{Source: "fixed", Amount: -1.5, Currency: "USD"})
	f("value: {source: property, key: total}", value, ValueSpec{Source: "property", Key: "total", DivideBy: 1})
	f("value: {source: property, key: a.b, currency: gbp, divide_by: 0.5}", value, ValueSpec{Source: "property", Key: "a.b", Currency: "GBP", DivideBy: 0.5})

	// g parses a rule whose trigger.where is where and checks its conditions.
	g := func(where string, want ...Condition) {
		t.Helper()
		rules, err := parseRules(t, "- {id: r, trigger: {event: e, where: "+where+"}, destinations: {meta: Purchase}}", knownDestinations)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if got := rules[0].Where; !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: got %#v, want %#v", where, got, want)
		}
	}
	g(`[{property: p, operator: eq, value: "5"}]`, Condition{"p", "eq", "5"})
	g(`[{property: p, operator: eq, value: 5}]`, Condition{"p", "eq", 5.0})
	g(`[{property: p, operator: eq, value: 0x10}]`, Condition{"p", "eq", 16.0})
	g(`[{property: p, operator: neq, value: 2.5e3}]`, Condition{"p", "neq", 2500.0})
	g(`[{property: p, operator: eq, value: true}]`, Condition{"p", "eq", true})
	g(`[{property: p, operator: eq, value: "true"}]`, Condition{"p", "eq", "true"})
	g(`[{property: p, operator: eq, value: ~}]`, Condition{"p", "eq", nil})
	g(`[{property: p, operator: eq, value: 2024-01-02}]`, Condition{"p", "eq", "2024-01-02"})
	g(`[{property: p, operator: gte, value: -3}]`, Condition{"p", "gte", -3.0})
	g(`[{property: p, operator: contains, value: ""}]`, Condition{"p", "contains", ""})
	g(`[{property: p, operator: exists}]`, Condition{"p", "exists", nil})
	g(`[{property: p, operator: not_exists}]`, Condition{"p", "not_exists", nil})
	g(`[]`)
	g(`~`)
	g(`[{property: a.b, operator: gt, value: 1}, {property: "x*", operator: lt, value: 2}]`,
		Condition{"a.b", "gt", 1.0}, Condition{"x*", "lt", 2.0})
}

func TestParseNoRules(t *testing.T) {
	f := func(src string) {
		t.Helper()
		rules, err := parseRules(t, src, knownDestinations)
		if err != nil || len(rules) != 0 {
			t.Fatalf("%q: rules %v, err %v", src, rules, err)
		}
	}
	f("")
	f("~")
	f("[]")
	if rules, err := Parse(nil, nil); err != nil || rules != nil {
		t.Fatalf("nil node: %v, %v", rules, err)
	}
}

func TestParseAliases(t *testing.T) {
	rules, err := parseRules(t, `
- {id: a, trigger: {event: e, where: &w [{property: p, operator: exists}]}, destinations: &d {meta: Lead}}
- {id: b, trigger: {event: f, where: *w}, destinations: *d}
`, knownDestinations)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || !reflect.DeepEqual(rules[0].Where, rules[1].Where) || !reflect.DeepEqual(rules[1].Destinations, []Destination{{"meta", "Lead"}}) {
		t.Fatalf("aliases: %+v", rules)
	}
}

func TestParseErrors(t *testing.T) {
	f := func(src, want string) {
		t.Helper()
		_, err := parseRules(t, src, knownDestinations)
		if err == nil {
			t.Fatalf("%s: no error, want %q", src, want)
		}
		if err.Error() != want {
			t.Fatalf("%s:\n got %q\nwant %q", src, err, want)
		}
	}
	// rule is a valid rule with extra keys.
	rule := func(extra string) string {
		return "- {id: r, trigger: {event: e}, destinations: {meta: Purchase}, " + extra + "}"
	}
	// trig is a valid rule with one condition.
	trig := func(cond string) string {
		return "- {id: r, trigger: {event: e, where: [" + cond + "]}, destinations: {meta: Purchase}}"
	}
	// dest is a valid rule with the given destinations.
	dest := func(d string) string { return "- {id: r, trigger: {event: e}, destinations: " + d + "}" }

	// The sequence and the rules.
	f("{rules: []}", "conversions.rules: must be a sequence")
	f("rules", "conversions.rules: must be a sequence")
	f("- rule", "conversions.rules[0]: must be a mapping")
	f("- [a]", "conversions.rules[0]: must be a mapping")

	// id.
	f("- {trigger: {event: e}, destinations: {meta: P}}", "conversions.rules[0].id: required")
	f(rule("")+"\n- {id: b, trigger: {event: e}, destinations: {meta: P}}\n- {id: ~, trigger: {event: e}}",
		"conversions.rules[2].id: required")
	f("- {id: '', trigger: {event: e}, destinations: {meta: P}}", "conversions.rules[0].id: required")
	f("- {id: a b, trigger: {event: e}, destinations: {meta: P}}", `conversions.rules[0].id: "a b" is not a valid id (want letters, digits and _ . : -)`)
	f("- {id: [x], trigger: {event: e}, destinations: {meta: P}}", "conversions.rules[0].id: must be a string")
	f(rule("")+"\n"+rule(""), `conversions.rules[1].id: "r" is already the id of conversions.rules[0]`)
	f("- {id: x, id: y}", `conversions.rules[x]: duplicate key "id"`)
	f("- {id: x, trigger: {event: e}, trigger: {event: f}}", `conversions.rules[x]: duplicate key "trigger"`)
	f(rule("name: Paid"), `conversions.rules[r]: unknown key "name"`)
	f("- {id: r, {a: b}: c}", "conversions.rules[r]: keys must be strings")

	// trigger.
	f("- {id: r, destinations: {meta: P}}", "conversions.rules[r].trigger: required")
	f("- {id: r, trigger: ~, destinations: {meta: P}}", "conversions.rules[r].trigger: required")
	f("- {id: r, trigger: signup, destinations: {meta: P}}", "conversions.rules[r].trigger: must be a mapping")
	f("- {id: r, trigger: {}, destinations: {meta: P}}", "conversions.rules[r].trigger.event: required")
	f("- {id: r, trigger: {event: ' '}, destinations: {meta: P}}", "conversions.rules[r].trigger.event: required")
	f("- {id: r, trigger: {event: {a: b}}, destinations: {meta: P}}", "conversions.rules[r].trigger.event: must be a string")
	f("- {id: r, trigger: {event: e, when: x}, destinations: {meta: P}}", `conversions.rules[r].trigger: unknown key "when"`)
	f("- {id: r, trigger: {event: e, where: {property: p}}, destinations: {meta: P}}", "conversions.rules[r].trigger.where: must be a sequence of conditions")

	// trigger.where conditions.
	f(trig("x"), "conversions.rules[r].trigger.where[0]: must be a mapping")
	f(trig("{property: p, operator: exists}, {type: property, property: p, operator: exists}"), `conversions.rules[r].trigger.where[1]: unknown key "type"`)
	f(trig("{operator: exists}"), "conversions.rules[r].trigger.where[0].property: required")
	f(trig("{property: '', operator: exists}"), "conversions.rules[r].trigger.where[0].property: required")
	f(trig("{property: p}"), "conversions.rules[r].trigger.where[0].operator: required")
	f(trig("{property: p, operator: like, value: x}"), `conversions.rules[r].trigger.where[0].operator: unknown operator "like" (want one of eq, neq, gt, gte, lt, lte, contains, exists, not_exists)`)
	f(trig("{property: p, operator: EQ, value: x}"), `conversions.rules[r].trigger.where[0].operator: unknown operator "EQ" (want one of eq, neq, gt, gte, lt, lte, contains, exists, not_exists)`)
	f(trig("{property: p, operator: eq}"), "conversions.rules[r].trigger.where[0].value: required for operator eq")
	f(trig("{property: p, operator: contains}"), "conversions.rules[r].trigger.where[0].value: required for operator contains")
	f(trig("{property: p, operator: gt}"), "conversions.rules[r].trigger.where[0].value: required for operator gt")
	f(trig("{property: p, operator: exists, value: 1}"), "conversions.rules[r].trigger.where[0].value: not used by operator exists")
	f(trig("{property: p, operator: not_exists, value: ~}"), "conversions.rules[r].trigger.where[0].value: not used by operator not_exists")
	f(trig("{property: p, operator: gt, value: '5'}"), "conversions.rules[r].trigger.where[0].value: must be a number for operator gt")
	f(trig("{property: p, operator: lte, value: true}"), "conversions.rules[r].trigger.where[0].value: must be a number for operator lte")
	f(trig("{property: p, operator: gte, value: ~}"), "conversions.rules[r].trigger.where[0].value: must be a number for operator gte")
	f(trig("{property: p, operator: lt, value: .nan}"), "conversions.rules[r].trigger.where[0].value: must be a finite number")
	f(trig("{property: p, operator: eq, value: .inf}"), "conversions.rules[r].trigger.where[0].value: must be a finite number")
	f(trig("{property: p, operator: contains, value: 5}"), "conversions.rules[r].trigger.where[0].value: must be a string for operator contains")
	f(trig("{property: p, operator: eq, value: [a, b]}"), "conversions.rules[r].trigger.where[0].value: must be a string, number, boolean or null")
	f(trig("{property: p, operator: eq, value: {a: b}}"), "conversions.rules[r].trigger.where[0].value: must be a string, number, boolean or null")
	f(trig("{property: p, operator: eq, value: !!binary aGk=}"), "conversions.rules[r].trigger.where[0].value: must be a string, number, boolean or null")

	// sources.
	f(rule("sources: []"), `conversions.rules[r].sources: must not be empty (omit it for the default, or say "any")`)
	f(rule("sources: all"), `conversions.rules[r].sources: must be "any" or a list of sources, not "all"`)
	f(rule("sources: ~"), `conversions.rules[r].sources: must be "any" or a list of sources`)
	f(rule("sources: {api: true}"), `conversions.rules[r].sources: must be "any" or a list of sources`)
	f(rule("sources: [api, '']"), "conversions.rules[r].sources[1]: must not be empty")
	f(rule("sources: [api, [x]]"), "conversions.rules[r].sources[1]: must be a string")
	f(rule("sources: [api, api]"), `conversions.rules[r].sources[1]: duplicate source "api"`)
	f(rule("sources: [api, any]"), `conversions.rules[r].sources[1]: "any" must be the whole value (sources: any), not a list item`)

	// value.
	f(rule("value: event"), "conversions.rules[r].value: must be a mapping")
	f(rule("value: ~"), "conversions.rules[r].value: must be a mapping")
	f(rule("value: {source: revenue}"), `conversions.rules[r].value.source: unknown source "revenue" (want event, fixed, property or none)`)
	f(rule("value: {source: ''}"), `conversions.rules[r].value.source: unknown source "" (want event, fixed, property or none)`)
	f(rule("value: {source: property, key: amount, currencyKey: c}"), `conversions.rules[r].value: unknown key "currencyKey"`)
	f(rule("value: {source: property, key: amount, divide_by: 0}"), "conversions.rules[r].value.divide_by: must be greater than 0")
	f(rule("value: {source: property, key: amount, divide_by: -100}"), "conversions.rules[r].value.divide_by: must be greater than 0")
	f(rule("value: {source: property, key: amount, divide_by: '100'}"), "conversions.rules[r].value.divide_by: must be a number")
	f(rule("value: {source: property, key: amount, divide_by: .inf}"), "conversions.rules[r].value.divide_by: must be a finite number")
	f(rule("value: {source: property}"), "conversions.rules[r].value.key: required for source property")
	f(rule("value: {source: property, key: ''}"), "conversions.rules[r].value.key: required for source property")
	f(rule("value: {source: property, key: a, currency_key: ''}"), "conversions.rules[r].value.currency_key: must not be empty")
	f(rule("value: {source: property, key: a, currency: dollars}"), `conversions.rules[r].value.currency: "dollars" is not a 3-letter currency code`)
	f(rule("value: {source: fixed, currency: USD}"), "conversions.rules[r].value.amount: required for source fixed")
	f(rule("value: {source: fixed, amount: '10', currency: USD}"), "conversions.rules[r].value.amount: must be a number")
	f(rule("value: {source: fixed, amount: 10}"), "conversions.rules[r].value.currency: required for source fixed")
	f(rule("value: {source: fixed, amount: 10, currency: E1R}"), `conversions.rules[r].value.currency: "E1R" is not a 3-letter currency code`)
	f(rule("value: {source: fixed, amount: 10, currency: EURO}"), `conversions.rules[r].value.currency: "EURO" is not a 3-letter currency code`)
	f(rule("value: {source: fixed, amount: 10, currency: É€R}"), `conversions.rules[r].value.currency: "É€R" is not a 3-letter currency code`)
	f(rule("value: {source: fixed, amount: 10, currency: USD, key: x}"), "conversions.rules[r].value.key: not used by source fixed")
	f(rule("value: {amount: 10}"), "conversions.rules[r].value.amount: not used by source event")
	f(rule("value: {source: event, currency: USD}"), "conversions.rules[r].value.currency: not used by source event")
	f(rule("value: {source: none, divide_by: 100}"), "conversions.rules[r].value.divide_by: not used by source none")

	// attribution_window.
	f(rule("attribution_window: 30"), `conversions.rules[r].attribution_window: "30" is not a duration (want e.g. 720h or 30d)`)
	f(rule("attribution_window: 1w"), `conversions.rules[r].attribution_window: "1w" is not a duration (want e.g. 720h or 30d)`)
	f(rule("attribution_window: -1d"), `conversions.rules[r].attribution_window: "-1d" is not a duration (want e.g. 720h or 30d)`)
	f(rule("attribution_window: ~"), `conversions.rules[r].attribution_window: "" is not a duration (want e.g. 720h or 30d)`)
	f(rule("attribution_window: [30d]"), "conversions.rules[r].attribution_window: must be a string")
	f(rule("attribution_window: 0d"), "conversions.rules[r].attribution_window: must be greater than 0")
	f(rule("attribution_window: 0s"), "conversions.rules[r].attribution_window: must be greater than 0")
	f(rule("attribution_window: -1h"), "conversions.rules[r].attribution_window: must be greater than 0")
	f(rule("attribution_window: 401d"), "conversions.rules[r].attribution_window: must be at most 400d")
	f(rule("attribution_window: 9601h"), "conversions.rules[r].attribution_window: must be at most 400d")
	f(rule("attribution_window: 99999999999999999999999d"), "conversions.rules[r].attribution_window: must be at most 400d")

	// destinations.
	f("- {id: r, trigger: {event: e}}", "conversions.rules[r].destinations: required")
	f(dest("~"), "conversions.rules[r].destinations: required")
	f(dest("{}"), "conversions.rules[r].destinations: must name at least one destination")
	f(dest("[meta]"), "conversions.rules[r].destinations: must be a mapping of destination to event name")
	f(dest("meta"), "conversions.rules[r].destinations: must be a mapping of destination to event name")
	f(dest("{meta: Purchase, snapchat: PURCHASE}"), "conversions.rules[r].destinations.snapchat: unknown destination (configured: google_ads, linkedin, meta, reddit, tiktok)")
	f(dest("{meta: ''}"), "conversions.rules[r].destinations.meta: event name required")
	f(dest("{meta: ~}"), "conversions.rules[r].destinations.meta: event name required")
	f(dest("{meta: [Purchase]}"), "conversions.rules[r].destinations.meta: must be a string")
	f(dest("{meta: Purchase, meta: Lead}"), `conversions.rules[r].destinations: duplicate key "meta"`)
}

func TestParseUnknownDestinationWithoutKnown(t *testing.T) {
	f := func(known map[string]bool, want string) {
		t.Helper()
		_, err := parseRules(t, "- {id: r, trigger: {event: e}, destinations: {meta: Purchase}}", known)
		if err == nil || err.Error() != want {
			t.Fatalf("known %v: got %v, want %q", known, err, want)
		}
	}
	f(nil, "conversions.rules[r].destinations.meta: unknown destination (configured: none)")
	f(map[string]bool{"meta": false, "tiktok": true}, "conversions.rules[r].destinations.meta: unknown destination (configured: tiktok)")
}
