package rules

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// Condition operators (Hogsend's PropertyCondition operators).
const (
	OpEq        = "eq"
	OpNeq       = "neq"
	OpGt        = "gt"
	OpGte       = "gte"
	OpLt        = "lt"
	OpLte       = "lte"
	OpContains  = "contains"
	OpExists    = "exists"
	OpNotExists = "not_exists"
)

// Condition is one trigger.where entry. It reads a top-level key of the
// event's properties, with the event's own value and currency laid over them.
type Condition struct {
	Property string
	Operator string
	// Value is the operand: a string, float64, bool or nil (YAML null).
	// Numbers are always float64. Unused by exists and not_exists.
	Value any
}

// Matches evaluates c against ev the way Hogsend does: eq/neq are strict
// equality without type coercion, gt/gte/lt/lte need two numbers, contains
// needs two strings, exists means present and not null. An unknown operator
// never matches.
func (c *Condition) Matches(ev *canonical.Event) bool {
	return compare(propertyOf(ev, c.Property), c.Operator, c.Value)
}

// kind is the JavaScript type of a property as Hogsend sees it.
type kind uint8

const (
	kindUndefined kind = iota // absent
	kindNull
	kindBool
	kindNumber
	kindString
	kindObject // an object or array: never equal to a YAML scalar
)

// operand is one property value.
type operand struct {
	kind kind
	str  string
	num  float64
	b    bool
}

// propertyOf reads the top-level property name of ev, with the money overlay
// Hogsend defines: when the event carries a value, `value` is that value and
// `currency` its currency (if any), whatever the properties say.
func propertyOf(ev *canonical.Event, name string) operand {
	if ev.HasValue {
		switch {
		case name == "value":
			return operand{kind: kindNumber, num: ev.Value}
		case name == "currency" && ev.Currency != "":
			return operand{kind: kindString, str: ev.Currency}
		}
	}
	return operandOf(lookup(ev.Properties, name))
}

// lookup returns the top-level key of the JSON object props. The key is
// escaped, so "a.b" is one key, not a path; anything but an object (or
// nothing) has no keys.
func lookup(props []byte, key string) gjson.Result {
	if !isObject(props) {
		return gjson.Result{}
	}
	return gjson.GetBytes(props, gjson.Escape(key))
}

func isObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c == '{'
	}
	return false
}

func operandOf(r gjson.Result) operand {
	if !r.Exists() {
		return operand{}
	}
	switch r.Type {
	case gjson.Null:
		return operand{kind: kindNull}
	case gjson.False:
		return operand{kind: kindBool}
	case gjson.True:
		return operand{kind: kindBool, b: true}
	case gjson.Number:
		return operand{kind: kindNumber, num: r.Num}
	case gjson.String:
		return operand{kind: kindString, str: r.Str}
	}
	return operand{kind: kindObject}
}

func compare(actual operand, op string, expected any) bool {
	switch op {
	case OpEq:
		return strictEqual(actual, expected)
	case OpNeq:
		return !strictEqual(actual, expected)
	case OpGt, OpGte, OpLt, OpLte:
		want, ok := expected.(float64)
		if !ok || actual.kind != kindNumber {
			return false
		}
		switch op {
		case OpGt:
			return actual.num > want
		case OpGte:
			return actual.num >= want
		case OpLt:
			return actual.num < want
		}
		return actual.num <= want
	case OpContains:
		want, ok := expected.(string)
		return ok && actual.kind == kindString && strings.Contains(actual.str, want)
	case OpExists:
		return actual.kind != kindUndefined && actual.kind != kindNull
	case OpNotExists:
		return actual.kind == kindUndefined || actual.kind == kindNull
	}
	return false
}

// strictEqual is JavaScript's ===: same type and same value (NaN equals
// nothing; absent equals nothing a YAML scalar can say).
func strictEqual(actual operand, expected any) bool {
	switch want := expected.(type) {
	case nil:
		return actual.kind == kindNull
	case string:
		return actual.kind == kindString && actual.str == want
	case float64:
		return actual.kind == kindNumber && actual.num == want
	case bool:
		return actual.kind == kindBool && actual.b == want
	}
	return false
}
