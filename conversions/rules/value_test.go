package rules

import (
	"testing"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

func TestEventValue(t *testing.T) {
	// f resolves spec against an event with properties props and money.
	f := func(spec ValueSpec, props string, hasValue bool, value float64, currency string, wantValue float64, wantCurrency string, wantOK bool) {
		t.Helper()
		r := Rule{Value: spec}
		ev := &canonical.Event{Properties: []byte(props), HasValue: hasValue, Value: value, Currency: currency}
		v, c, ok := r.EventValue(ev)
		if v != wantValue || c != wantCurrency || ok != wantOK {
			t.Fatalf("%+v on %s (%v %v %q) = %v %q %v, want %v %q %v", spec, props, hasValue, value, currency, v, c, ok, wantValue, wantCurrency, wantOK)
		}
	}
	// event (the default): the event's own value and currency.
	for _, src := range []string{"event", ""} {
		spec := ValueSpec{Source: src}
		f(spec, `{"amount":5}`, true, 49.99, "EUR", 49.99, "EUR", true)
		f(spec, `{}`, true, 0, "", 0, "", true)
		f(spec, `{"value":5,"currency":"USD"}`, false, 0, "", 0, "", false)
	}
	// fixed: the spec's amount and currency, whatever the event says.
	fixed := ValueSpec{Source: "fixed", Amount: 25, Currency: "USD"}
	f(fixed, `{}`, false, 0, "", 25, "USD", true)
	f(fixed, `{"currency":"EUR"}`, true, 99, "EUR", 25, "USD", true)
	// none: never a value.
	f(ValueSpec{Source: "none"}, `{}`, true, 10, "EUR", 0, "", false)
	// An unknown source (hand-built) has none either.
	f(ValueSpec{Source: "bogus"}, `{}`, true, 10, "EUR", 0, "", false)

	// property: a number, or a decimal string.
	prop := ValueSpec{Source: "property", Key: "amount", DivideBy: 1}
	f(prop, `{"amount":19.99}`, false, 0, "", 19.99, "", true)
	f(prop, `{"amount":"19.99"}`, false, 0, "", 19.99, "", true)
	f(prop, `{"amount":" 7 "}`, false, 0, "", 7, "", true)
	f(prop, `{"amount":"-3"}`, false, 0, "", -3, "", true)
	f(prop, `{"amount":"+3"}`, false, 0, "", 3, "", true)
	f(prop, `{"amount":".5"}`, false, 0, "", 0.5, "", true)
	f(prop, `{"amount":"5."}`, false, 0, "", 5, "", true)
	f(prop, `{"amount":"1e3"}`, false, 0, "", 1000, "", true)
	f(prop, `{"amount":0}`, false, 0, "", 0, "", true)
	f(prop, `{"amount":"abc"}`, false, 0, "", 0, "", false)
	f(prop, `{"amount":""}`, false, 0, "", 0, "", false)
	f(prop, `{"amount":"."}`, false, 0, "", 0, "", false)
	f(prop, `{"amount":"1e"}`, false, 0, "", 0, "", false)
	f(prop, `{"amount":"0x10"}`, false, 0, "", 0, "", false)
	f(prop, `{"amount":"1_000"}`, false, 0, "", 0, "", false)
	f(prop, `{"amount":"NaN"}`, false, 0, "", 0, "", false)
	f(prop, `{"amount":"Infinity"}`, false, 0, "", 0, "", false)
	f(prop, `{"amount":"1e999"}`, false, 0, "", 0, "", false)
	f(prop, `{"amount":1e999}`, false, 0, "", 0, "", false)
	f(prop, `{"amount":"12 USD"}`, false, 0, "", 0, "", false)
	f(prop, `{"amount":true}`, false, 0, "", 0, "", false)
	f(prop, `{"amount":null}`, false, 0, "", 0, "", false)
	f(prop, `{"amount":[5]}`, false, 0, "", 0, "", false)
	f(prop, `{"amount":{"v":5}}`, false, 0, "", 0, "", false)
	f(prop, `{}`, false, 0, "", 0, "", false)
	f(prop, ``, false, 0, "", 0, "", false)
	// The property is read as sent: the event's money is no overlay here...
	f(ValueSpec{Source: "property", Key: "value", DivideBy: 1}, `{"value":3}`, true, 99, "EUR", 3, "EUR", true)
	// ...and its key is a top-level key, dots included.
	f(ValueSpec{Source: "property", Key: "order.total", DivideBy: 1}, `{"order.total":42,"order":{"total":1}}`, false, 0, "", 42, "", true)
	f(ValueSpec{Source: "property", Key: "order.total", DivideBy: 1}, `{"order":{"total":1}}`, false, 0, "", 0, "", false)
	// divide_by scales; 0 (hand-built) means 1.
	f(ValueSpec{Source: "property", Key: "cents", DivideBy: 100}, `{"cents":1999}`, false, 0, "", 19.99, "", true)
	f(ValueSpec{Source: "property", Key: "cents", DivideBy: 100}, `{"cents":"250"}`, false, 0, "", 2.5, "", true)
	f(ValueSpec{Source: "property", Key: "cents"}, `{"cents":250}`, false, 0, "", 250, "", true)

	// Currency: currency_key's property if a 3-letter code, else the spec's
	// currency, else the event's.
	cur := ValueSpec{Source: "property", Key: "amount", CurrencyKey: "cur", Currency: "GBP", DivideBy: 1}
	f(cur, `{"amount":1,"cur":"eur"}`, true, 5, "USD", 1, "EUR", true)
	f(cur, `{"amount":1,"cur":"EUR"}`, false, 0, "", 1, "EUR", true)
	f(cur, `{"amount":1,"cur":"euro"}`, true, 5, "USD", 1, "GBP", true)
	f(cur, `{"amount":1,"cur":"E1R"}`, true, 5, "USD", 1, "GBP", true)
	f(cur, `{"amount":1,"cur":978}`, true, 5, "USD", 1, "GBP", true)
	f(cur, `{"amount":1,"cur":null}`, true, 5, "USD", 1, "GBP", true)
	f(cur, `{"amount":1}`, true, 5, "USD", 1, "GBP", true)
	noSpec := ValueSpec{Source: "property", Key: "amount", CurrencyKey: "cur", DivideBy: 1}
	f(noSpec, `{"amount":1,"cur":"jpy"}`, true, 5, "USD", 1, "JPY", true)
	f(noSpec, `{"amount":1,"cur":"yen"}`, true, 5, "USD", 1, "YEN", true) // well-formed, if not a real code
	f(noSpec, `{"amount":1,"cur":"¥"}`, true, 5, "USD", 1, "USD", true)
	f(noSpec, `{"amount":1}`, true, 5, "USD", 1, "USD", true)
	f(noSpec, `{"amount":1}`, false, 0, "", 1, "", true)
	f(ValueSpec{Source: "property", Key: "amount", Currency: "CHF", DivideBy: 1}, `{"amount":1,"currency":"EUR"}`, true, 5, "USD", 1, "CHF", true)
	f(ValueSpec{Source: "property", Key: "amount", CurrencyKey: "cur.code", DivideBy: 1}, `{"amount":1,"cur.code":"sek"}`, false, 0, "", 1, "SEK", true)
}

func TestCurrencyCode(t *testing.T) {
	f := func(in, want string, wantOK bool) {
		t.Helper()
		got, ok := currencyCode(in)
		if got != want || ok != wantOK {
			t.Fatalf("currencyCode(%q) = %q %v, want %q %v", in, got, ok, want, wantOK)
		}
	}
	f("USD", "USD", true)
	f("usd", "USD", true)
	f("eUr", "EUR", true)
	f("", "", false)
	f("US", "", false)
	f("USDT", "", false)
	f("U$D", "", false)
	f("ÜSD", "", false)
	f("12a", "", false)
}
