package rules

import (
	"testing"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

func TestConditionOperators(t *testing.T) {
	// f evaluates `property op value` against an event with properties props.
	f := func(props, property, op string, value any, want bool) {
		t.Helper()
		ev := &canonical.Event{Name: "e", Properties: []byte(props)}
		c := Condition{Property: property, Operator: op, Value: value}
		if got := c.Matches(ev); got != want {
			t.Fatalf("%s %s %#v on %s = %v, want %v", property, op, value, props, got, want)
		}
	}
	// eq: strict equality, no coercion.
	f(`{"plan":"pro"}`, "plan", "eq", "pro", true)
	f(`{"plan":"pro"}`, "plan", "eq", "Pro", false)
	f(`{"plan":"pro"}`, "plan", "eq", "pro ", false)
	f(`{"n":5}`, "n", "eq", 5.0, true)
	f(`{"n":5.0}`, "n", "eq", 5.0, true)
	f(`{"n":5e0}`, "n", "eq", 5.0, true)
	f(`{"n":-0}`, "n", "eq", 0.0, true)
	f(`{"n":"5"}`, "n", "eq", 5.0, false)
	f(`{"n":5}`, "n", "eq", "5", false)
	f(`{"b":true}`, "b", "eq", true, true)
	f(`{"b":false}`, "b", "eq", false, true)
	f(`{"b":true}`, "b", "eq", false, false)
	f(`{"b":"true"}`, "b", "eq", true, false)
	f(`{"b":1}`, "b", "eq", true, false)
	f(`{"b":0}`, "b", "eq", false, false)
	f(`{"z":null}`, "z", "eq", nil, true)
	f(`{}`, "z", "eq", nil, false) // undefined !== null
	f(`{"z":""}`, "z", "eq", nil, false)
	f(`{"z":0}`, "z", "eq", nil, false)
	f(`{"o":{"a":1}}`, "o", "eq", "{\"a\":1}", false)
	f(`{"a":[1]}`, "a", "eq", 1.0, false)
	f(`{"s":"caf\u00e9"}`, "s", "eq", "café", true)
	f(`{"s":"a\"b"}`, "s", "eq", `a"b`, true)
	f(`{"plan":"pro"}`, "plan", "eq", 5, false) // a hand-built int is not a YAML number
	// neq is the negation of eq, absent included.
	f(`{"plan":"pro"}`, "plan", "neq", "free", true)
	f(`{"plan":"pro"}`, "plan", "neq", "pro", false)
	f(`{}`, "plan", "neq", "pro", true)
	f(`{"n":"5"}`, "n", "neq", 5.0, true)
	f(`{"n":5}`, "n", "neq", 5.0, false)
	f(`{"z":null}`, "z", "neq", nil, false)
	f(`{}`, "z", "neq", nil, true)
	// gt, gte, lt, lte need two numbers.
	f(`{"n":10}`, "n", "gt", 5.0, true)
	f(`{"n":5}`, "n", "gt", 5.0, false)
	f(`{"n":5}`, "n", "gte", 5.0, true)
	f(`{"n":4.99}`, "n", "gte", 5.0, false)
	f(`{"n":-1}`, "n", "lt", 0.0, true)
	f(`{"n":0}`, "n", "lt", 0.0, false)
	f(`{"n":0}`, "n", "lte", 0.0, true)
	f(`{"n":1}`, "n", "lte", 0.0, false)
	f(`{"n":1e3}`, "n", "gt", 999.5, true)
	f(`{"n":"10"}`, "n", "gt", 5.0, false)
	f(`{"n":"10"}`, "n", "lt", 50.0, false)
	f(`{"n":true}`, "n", "gte", 1.0, false)
	f(`{"n":null}`, "n", "lt", 5.0, false) // JS null < 5 is true; Hogsend's typeof check is not
	f(`{"n":[1]}`, "n", "lte", 5.0, false)
	f(`{}`, "n", "gt", -1e300, false)
	f(`{"n":10}`, "n", "gt", "5", false)
	f(`{"n":10}`, "n", "lt", nil, false)
	// contains: substring of a string.
	f(`{"s":"hello world"}`, "s", "contains", "lo w", true)
	f(`{"s":"hello world"}`, "s", "contains", "Hello", false)
	f(`{"s":"hello"}`, "s", "contains", "", true)
	f(`{"s":"hello"}`, "s", "contains", "hello!", false)
	f(`{"n":123}`, "n", "contains", "2", false)
	f(`{"a":["x","y"]}`, "a", "contains", "x", false)
	f(`{"o":{"x":1}}`, "o", "contains", "x", false)
	f(`{}`, "s", "contains", "", false)
	f(`{"s":"123"}`, "s", "contains", 2.0, false)
	// exists and not_exists: present and not null.
	f(`{"a":1}`, "a", "exists", nil, true)
	f(`{"a":0}`, "a", "exists", nil, true)
	f(`{"a":""}`, "a", "exists", nil, true)
	f(`{"a":false}`, "a", "exists", nil, true)
	f(`{"a":{}}`, "a", "exists", nil, true)
	f(`{"a":[]}`, "a", "exists", nil, true)
	f(`{"a":null}`, "a", "exists", nil, false)
	f(`{}`, "a", "exists", nil, false)
	f(`{"a":1}`, "a", "not_exists", nil, false)
	f(`{"a":null}`, "a", "not_exists", nil, true)
	f(`{}`, "a", "not_exists", nil, true)
	// An unknown operator never matches.
	f(`{"a":1}`, "a", "is", 1.0, false)
	f(`{"a":1}`, "a", "", 1.0, false)
}

func TestConditionTopLevelKeys(t *testing.T) {
	// f checks whether property exists on an event with properties props,
	// and (when it does) that it reads want.
	f := func(props, property string, want any) {
		t.Helper()
		ev := &canonical.Event{Name: "e", Properties: []byte(props)}
		exists := (&Condition{Property: property, Operator: "exists"}).Matches(ev)
		if want == nil {
			if exists {
				t.Fatalf("%q on %s exists, want absent", property, props)
			}
			return
		}
		if !exists || !(&Condition{Property: property, Operator: "eq", Value: want}).Matches(ev) {
			t.Fatalf("%q on %s does not read %#v", property, props, want)
		}
	}
	// Dots are part of the key, never a path.
	f(`{"a.b":1,"a":{"b":2}}`, "a.b", 1.0)
	f(`{"a":{"b":2}}`, "a.b", nil)
	f(`{"a":[5]}`, "a.0", nil)
	f(`{"a":[5]}`, "a.#", nil)
	// Every gjson metacharacter is literal.
	f(`{"abc":1}`, "a*", nil)
	f(`{"a*":2}`, "a*", 2.0)
	f(`{"abc":1}`, "a?c", nil)
	f(`{"a?c":3}`, "a?c", 3.0)
	f(`{"x":1}`, "@this", nil)
	f(`{"@this":"me"}`, "@this", "me")
	f(`{"x":1}`, "#", nil)
	f(`{"#":4}`, "#", 4.0)
	f(`{"a":{"b":1}}`, "a|b", nil)
	f(`{"a|b":5}`, "a|b", 5.0)
	f(`{"a\\b":6}`, `a\b`, 6.0)
	f(`{"a":1}`, `a\`, nil)
	f(`{"x":1}`, "!true", nil)
	f(`{"!true":7}`, "!true", 7.0)
	f(`{"x":1}`, "[x]", nil)
	f(`{"[x]":8}`, "[x]", 8.0)
	f(`{"x":1}`, "{x}", nil)
	f(`{"a b":9}`, "a b", 9.0)
	f(`{"":10}`, "", 10.0)
	f(`{"$current_url":"https://x"}`, "$current_url", "https://x")
	f(`{"a.b.c":"deep"}`, "a.b.c", "deep")
	f(`{"a\"b":"q"}`, `a"b`, "q")
	f(`{"\u00e9":"e"}`, "é", "e")
	// Only objects have keys.
	f(`[5,6]`, "0", nil)
	f(`  [5,6]`, "#", nil)
	f(`"a"`, "a", nil)
	f(``, "a", nil)
	f(`null`, "a", nil)
	f("\n {\"a\":1}", "a", 1.0)
	// Duplicate keys: the first one is read.
	f(`{"a":1,"a":2}`, "a", 1.0)
}

func TestConditionMoneyOverlay(t *testing.T) {
	// f evaluates c against an event with properties props and money.
	f := func(hasValue bool, value float64, currency string, c Condition, want bool) {
		t.Helper()
		ev := &canonical.Event{Name: "e", Properties: []byte(`{"value":"12","currency":"usd","plan":"pro"}`), HasValue: hasValue, Value: value, Currency: currency}
		if got := c.Matches(ev); got != want {
			t.Fatalf("%+v on value %v %v %q = %v, want %v", c, hasValue, value, currency, got, want)
		}
	}
	f(true, 49.99, "EUR", Condition{"value", "eq", 49.99}, true)
	f(true, 49.99, "EUR", Condition{"value", "gte", 10.0}, true)
	f(true, 49.99, "EUR", Condition{"value", "eq", "12"}, false)
	f(true, 49.99, "EUR", Condition{"currency", "eq", "EUR"}, true)
	f(true, 49.99, "EUR", Condition{"currency", "eq", "usd"}, false)
	f(true, 0, "EUR", Condition{"value", "exists", nil}, true)
	f(true, -5, "", Condition{"value", "lt", 0.0}, true)
	// Without a currency only the value is laid over.
	f(true, 5, "", Condition{"currency", "eq", "usd"}, true)
	// Without a value nothing is: the properties are read as they are.
	f(false, 0, "", Condition{"value", "eq", "12"}, true)
	f(false, 0, "", Condition{"value", "gt", 1.0}, false)
	f(false, 0, "EUR", Condition{"currency", "eq", "usd"}, true)
	// Other properties are untouched.
	f(true, 1, "EUR", Condition{"plan", "eq", "pro"}, true)
}
