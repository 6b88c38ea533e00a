package rules

import (
	"math"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// Value sources of a ValueSpec.
const (
	ValueFromEvent    = "event"    // the event's own value and currency (the default)
	ValueFixed        = "fixed"    // a constant amount and currency
	ValueFromProperty = "property" // a numeric event property
	ValueNone         = "none"     // a conversion without a value
)

// ValueSpec says where a conversion's value comes from.
type ValueSpec struct {
	Source string // ValueFromEvent (also when ""), ValueFixed, ValueFromProperty or ValueNone
	// Amount is the fixed value (ValueFixed).
	Amount float64
	// Currency is the fixed currency (ValueFixed), or the fallback currency
	// of ValueFromProperty; 3 upper-case letters or "".
	Currency string
	// Key is the property holding the value and CurrencyKey the optional
	// property holding its currency (ValueFromProperty).
	Key, CurrencyKey string
	// DivideBy scales a property value (cents to units: 100); 0 means 1.
	DivideBy float64
}

// EventValue returns the conversion value of ev per r.Value; ok is false when
// there is none (a value-less event, a missing or non-numeric property, or
// ValueNone).
func (r *Rule) EventValue(ev *canonical.Event) (value float64, currency string, ok bool) {
	v := &r.Value
	switch v.Source {
	case ValueFromEvent, "":
		if !ev.HasValue {
			return 0, "", false
		}
		return ev.Value, ev.Currency, true
	case ValueFixed:
		return v.Amount, v.Currency, true
	case ValueFromProperty:
		value, ok = amountOf(lookup(ev.Properties, v.Key))
		if !ok {
			return 0, "", false
		}
		if v.DivideBy > 0 {
			value /= v.DivideBy
		}
		currency = v.Currency
		if v.CurrencyKey != "" {
			if r := lookup(ev.Properties, v.CurrencyKey); r.Type == gjson.String {
				if c, ok := currencyCode(r.Str); ok {
					currency = c
				}
			}
		}
		if currency == "" {
			currency = ev.Currency
		}
		return value, currency, true
	}
	return 0, "", false
}

// amountOf reads a property value: a finite JSON number, or a string holding
// a decimal number ("19.99", " 5 ", "1e3").
func amountOf(r gjson.Result) (float64, bool) {
	var n float64
	switch r.Type {
	case gjson.Number:
		n = r.Num
	case gjson.String:
		s := strings.TrimSpace(r.Str)
		if !isDecimal(s) {
			return 0, false
		}
		var err error
		if n, err = strconv.ParseFloat(s, 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, false
	}
	return n, true
}

// isDecimal reports whether s is [+-]?(d+(.d*)?|.d+)([eE][+-]?d+)?, which
// keeps out the hex, underscore, "Inf" and "NaN" forms ParseFloat accepts.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && isDigit(s[i]); i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && isDigit(s[i]); i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(s) && isDigit(s[i]); i++ {
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// currencyCode upper-cases an ISO 4217 code; ok is false unless s is three
// ASCII letters.
func currencyCode(s string) (string, bool) {
	if len(s) != 3 {
		return "", false
	}
	var b [3]byte
	for i := 0; i < 3; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c < 'A' || c > 'Z' {
			return "", false
		}
		b[i] = c
	}
	if string(b[:]) == s {
		return s, true
	}
	return string(b[:]), true
}
