package rules

import (
	"math"
	"testing"

	"github.com/tidwall/gjson"
	"gopkg.in/yaml.v3"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

func FuzzMatches(f *testing.F) {
	f.Add([]byte(`{"plan":"pro","amount":1999,"currency":"eur"}`), "plan", "eq", uint8(0), "pro", 5.0, "api", "", true, 19.99, "USD", "amount", "currency", 100.0)
	f.Add([]byte(`{"a.b":1,"a":{"b":2}}`), "a.b", "gt", uint8(1), "", 0.5, "posthog", "web", false, 0.0, "", "a.b", "", 0.0)
	f.Add([]byte(`{"@this":"x","#":[1],"*":null}`), "@this", "contains", uint8(0), "x", 0.0, "inapp", "", false, 0.0, "", "#", "*", -1.0)
	f.Add([]byte(`[1,2`), "0", "exists", uint8(3), "", 0.0, "", "", true, -1.0, "", "0", "1", 1.0)
	f.Add([]byte(`{"v":"12.5","c":"gbp"}`), "v", "neq", uint8(2), "", 0.0, "crm", "", false, 0.0, "", "v", "c", 0.001)
	ops := []string{OpEq, OpNeq, OpGt, OpGte, OpLt, OpLte, OpContains, OpExists, OpNotExists, "bogus"}
	f.Fuzz(func(t *testing.T, props []byte, property, op string, kindSel uint8, str string, num float64,
		source, lib string, hasValue bool, value float64, currency, key, currencyKey string, divideBy float64) {
		var operand any
		switch kindSel % 4 {
		case 0:
			operand = str
		case 1:
			operand = num
		case 2:
			operand = kindSel > 127
		}
		if op == "" {
			op = ops[int(kindSel)%len(ops)]
		}
		r := Rule{
			ID:    "fuzz",
			Event: "e",
			Where: []Condition{{Property: property, Operator: op, Value: operand}, {Property: key, Operator: OpExists}},
			Value: ValueSpec{Source: ValueFromProperty, Key: key, CurrencyKey: currencyKey, Currency: "EUR", DivideBy: divideBy},
		}
		ev := &canonical.Event{Name: "e", Properties: props, Source: source, Lib: lib, HasValue: hasValue, Value: value, Currency: currency}
		r.Matches(ev)
		v, c, ok := r.EventValue(ev)
		if ok && divideBy > 0 && (math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Fatalf("non-finite value %v from %s", v, props)
		}
		if ok && c == "" && currency != "" {
			t.Fatalf("currency lost: %q", c)
		}
		for _, s := range []string{ValueFromEvent, ValueFixed, ValueNone} {
			r.Value.Source = s
			r.EventValue(ev)
		}

		// The escaped gjson lookup reads exactly the first top-level key
		// named property: what iterating the object finds.
		if !isObject(props) || !gjson.ValidBytes(props) {
			return
		}
		var want gjson.Result
		gjson.ParseBytes(props).ForEach(func(k, v gjson.Result) bool {
			if k.Str == property {
				want = v
				return false
			}
			return true
		})
		if got := lookup(props, property); got.Raw != want.Raw || got.Exists() != want.Exists() {
			t.Fatalf("lookup(%s, %q) = %q, want %q", props, property, got.Raw, want.Raw)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add(`- {id: r, trigger: {event: e, where: [{property: p, operator: eq, value: "5"}]}, sources: [api], value: {source: property, key: a, divide_by: 100}, attribution_window: 30d, destinations: {meta: Purchase}}`)
	f.Add(`- {id: r, trigger: {event: e}, sources: any, value: {source: fixed, amount: 1, currency: usd}, destinations: {tiktok: X, meta: Y}}`)
	f.Add(`- {id: r, trigger: {event: e, where: &w [{property: p, operator: exists}]}, destinations: &d {meta: L}}
- {id: s, trigger: {event: e, where: *w}, destinations: *d}`)
	f.Add(`- {id: r, trigger: {event: e}, attribution_window: 401d, destinations: {meta: P}}`)
	f.Fuzz(func(t *testing.T, src string) {
		doc, ok := unmarshalYAML(src)
		if !ok {
			return
		}
		rules, err := Parse(doc, knownDestinations)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		ids := map[string]bool{}
		for _, r := range rules {
			if !validID.MatchString(r.ID) || ids[r.ID] || r.Event == "" || len(r.Destinations) == 0 {
				t.Fatalf("invalid rule accepted: %+v", r)
			}
			ids[r.ID] = true
			if r.AttributionWindow <= 0 || r.AttributionWindow > MaxAttributionWindow {
				t.Fatalf("window %v accepted", r.AttributionWindow)
			}
			for _, d := range r.Destinations {
				if !knownDestinations[d.Name] || d.EventName == "" {
					t.Fatalf("destination %+v accepted", d)
				}
			}
			if r.Value.Source == ValueFromProperty && !(r.Value.DivideBy > 0) {
				t.Fatalf("divide_by %v accepted", r.Value.DivideBy)
			}
			if r.Sources.Any && len(r.Sources.Names) > 0 {
				t.Fatalf("sources %+v", r.Sources)
			}
		}
	})
}

// unmarshalYAML decodes fuzzed YAML text; ok is false when yaml.v3 rejects
// it (or panics on it, which is yaml.v3's problem, not Parse's).
func unmarshalYAML(src string) (doc *yaml.Node, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	doc = new(yaml.Node)
	return doc, yaml.Unmarshal([]byte(src), doc) == nil
}
