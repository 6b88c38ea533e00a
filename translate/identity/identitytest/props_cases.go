package identitytest

import (
	"testing"

	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// testPropertyPatch applies patches in sequence to one contact and checks the
// exact JSON after each (keys sorted by name, values byte for byte).
func testPropertyPatch(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	resolve1(t, s, withSet(op(T0, mail("p@x")),
		set("a", "1"), set("b", `{"x":1}`), set("discord", `{"id":"1","tag":"t"}`)))
	steps := []struct {
		name string
		set  []identity.Prop
		once []identity.Prop
		want string
	}{
		{"replace", []identity.Prop{set("a", "2")}, nil,
			`{"a":2,"b":{"x":1},"discord":{"id":"1","tag":"t"}}`},
		{"null removes", []identity.Prop{set("a", "null")}, nil,
			`{"b":{"x":1},"discord":{"id":"1","tag":"t"}}`},
		{"nil value removes", []identity.Prop{set("b", "")}, nil,
			`{"discord":{"id":"1","tag":"t"}}`},
		{"empty patch changes nothing", nil, nil,
			`{"discord":{"id":"1","tag":"t"}}`},
		{"nested objects are replaced whole", []identity.Prop{set("b", `{"y":2}`)}, nil,
			`{"b":{"y":2},"discord":{"id":"1","tag":"t"}}`},
		{"discord merges one level", []identity.Prop{set("discord", `{"tag":null,"name":"n"}`)}, nil,
			`{"b":{"y":2},"discord":{"id":"1","name":"n"}}`},
		{"telegram merges into nothing", []identity.Prop{set("telegram", `{"id":7,"x":null}`)}, nil,
			`{"b":{"y":2},"discord":{"id":"1","name":"n"},"telegram":{"id":7}}`},
		{"discord numbers keep their bytes", []identity.Prop{set("discord", `{"big":123456789012345678901,"f":1.50}`)}, nil,
			`{"b":{"y":2},"discord":{"id":"1","name":"n","big":123456789012345678901,"f":1.50},"telegram":{"id":7}}`},
		{"discord non-object replaces", []identity.Prop{set("discord", `"gone"`), set("telegram", "null")}, nil,
			`{"b":{"y":2},"discord":"gone"}`},
		{"set once when absent", nil, []identity.Prop{set("a", "5"), set("b", "6"), set("n", "null")},
			`{"a":5,"b":{"y":2},"discord":"gone"}`},
		{"set beats set once", []identity.Prop{set("c", "1")}, []identity.Prop{set("c", "2"), set("a", "7")},
			`{"a":5,"b":{"y":2},"c":1,"discord":"gone"}`},
		{"names are escaped", []identity.Prop{set(`we"ird\key`, "1"), set("ключ", `"значение"`), set("tab\t", "[1, 2]")}, nil,
			`{"a":5,"b":{"y":2},"c":1,"discord":"gone","tab\t":[1, 2],"we\"ird\\key":1,"ключ":"значение"}`},
		{"remove all", []identity.Prop{set("a", "null"), set("b", "null"), set("c", "null"), set("discord", "null"),
			set(`we"ird\key`, "null"), set("ключ", "null"), set("tab\t", "null")}, nil,
			`{}`},
	}
	for i, st := range steps {
		o := op(T0+int64(i)+1, mail("p@x"))
		o.Set, o.SetOnce = st.set, st.once
		r := resolve1(t, s, o)
		equal(t, st.name, string(r.Contact.Properties), st.want)
		equal(t, st.name+" (find)", string(find(t, s, "p@x", "")[0].Properties), st.want)
	}
}
