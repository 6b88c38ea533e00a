package identitytest

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// largeKeys is the size of each side of the large merges: big enough that a
// merge costing a scan per property would stall the suite, small enough that
// one Redis script stays within the client's read timeout on a loaded machine
// (the merge benchmarks time 100 k keys).
const largeKeys = 20_000

// largeSide is one side of a large merge: names in the order sent, the value
// of each (null removes).
type largeSide struct {
	names []string
	vals  map[string]string
}

// largeSides returns a base of largeKeys shuffled names and a patch of as
// many, half of them the base's; every seventh patch value is null.
func largeSides(seed uint64) (base, patch largeSide) {
	r := rand.New(rand.NewPCG(seed, 11))
	side := func(from int, val func(i int) string) largeSide {
		s := largeSide{names: make([]string, largeKeys), vals: make(map[string]string, largeKeys)}
		for i, j := range r.Perm(largeKeys) {
			s.names[i] = "k" + strconv.Itoa(from+j)
			s.vals[s.names[i]] = val(i)
		}
		return s
	}
	base = side(0, func(i int) string { return `"b` + strconv.Itoa(i) + `"` })
	patch = side(largeKeys/2, func(i int) string {
		if i%7 == 0 {
			return "null"
		}
		return strconv.Itoa(i)
	})
	return base, patch
}

func (s largeSide) props() []identity.Prop {
	out := make([]identity.Prop, len(s.names))
	for i, n := range s.names {
		out[i] = set(n, s.vals[n])
	}
	return out
}

// object is the side as one JSON object, members in the order sent.
func (s largeSide) object() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range s.names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(n) + ":" + s.vals[n])
	}
	b.WriteByte('}')
	return b.String()
}

// topLevel is the JSON of base's properties after patch: the union sorted by
// name, patch winning, nulls gone.
func topLevel(base, patch largeSide) string {
	vals := make(map[string]string, len(base.names)+len(patch.names))
	for n, v := range base.vals {
		vals[n] = v
	}
	for n, v := range patch.vals {
		vals[n] = v
	}
	names := make([]string, 0, len(vals))
	for n, v := range vals {
		if v != "null" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(n) + ":" + vals[n])
	}
	b.WriteByte('}')
	return b.String()
}

// nestedMerged is base's object merged one level with patch: base's members
// in base's order (patch's value where it has one, gone where that is null),
// then patch's new members in patch's order.
func nestedMerged(base, patch largeSide) string {
	var parts []string
	for _, n := range base.names {
		v := base.vals[n]
		if pv, ok := patch.vals[n]; ok {
			v = pv
		}
		if v != "null" {
			parts = append(parts, strconv.Quote(n)+":"+v)
		}
	}
	for _, n := range patch.names {
		if _, ok := base.vals[n]; !ok && patch.vals[n] != "null" {
			parts = append(parts, strconv.Quote(n)+":"+patch.vals[n])
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// testLargeMerges: a $set of largeKeys properties over as many (half shared),
// as top-level properties, as a "discord" object, and as a contact merge,
// gives exact JSON in both stores: top-level names sorted, a nested object's
// members in the order its merges gave them.
func testLargeMerges(t *testing.T, newStore func(*testing.T) identity.Store) {
	base, patch := largeSides(1)
	t.Run("TopLevel", func(t *testing.T) {
		s := newStore(t)
		resolve1(t, s, withSet(op(T0, mail("big@x")), base.props()...))
		r := resolve1(t, s, withSet(op(T0+1, mail("big@x")), patch.props()...))
		want := topLevel(base, patch)
		sameLarge(t, "properties", string(r.Contact.Properties), want)
		sameLarge(t, "find", string(find(t, s, "big@x", "")[0].Properties), want)
	})
	t.Run("SetOnceAndUnset", func(t *testing.T) {
		s := newStore(t)
		resolve1(t, s, withSet(op(T0, mail("big@x")), base.props()...))
		o := withOnce(op(T0+1, mail("big@x")), patch.props()...)
		o.Unset = base.names[:largeKeys/10]
		r := resolve1(t, s, o)
		// Set once fills only absent names; unset then removes a tenth of base.
		kept := largeSide{names: base.names[largeKeys/10:], vals: base.vals}
		fresh := largeSide{vals: map[string]string{}}
		for _, n := range patch.names {
			if _, ok := base.vals[n]; !ok {
				fresh.names = append(fresh.names, n)
				fresh.vals[n] = patch.vals[n]
			}
		}
		sameLarge(t, "properties", string(r.Contact.Properties), topLevel(onlyNames(kept), fresh))
	})
	t.Run("Discord", func(t *testing.T) {
		s := newStore(t)
		resolve1(t, s, withSet(op(T0, mail("big@x")), set("discord", base.object())))
		r := resolve1(t, s, withSet(op(T0+1, mail("big@x")), set("discord", patch.object())))
		want := `{"discord":` + nestedMerged(base, patch) + `}`
		sameLarge(t, "properties", string(r.Contact.Properties), want)
		sameLarge(t, "find", string(find(t, s, "big@x", "")[0].Properties), want)
	})
	t.Run("ContactMerge", func(t *testing.T) {
		s := newStore(t)
		noNulls := patch.withoutNulls()
		resolve1(t, s, withSet(op(T0, mail("big-a@x")), append(base.props(), set("discord", base.object()))...))
		resolve1(t, s, withSet(op(T0+1, ext("big-b")), append(noNulls.props(), set("discord", noNulls.object()))...))
		r := resolve1(t, s, op(T0+2, ext("big-b"), mail("big-a@x")))
		equal(t, "flags", flags(r), "found,linked,merged")
		// The survivor (with the external id) lies on top of the loser;
		// "discord" sorts before the "k" names.
		want := `{"discord":` + nestedMerged(base, noNulls) + "," + strings.TrimPrefix(topLevel(base, noNulls), "{")
		sameLarge(t, "properties", string(r.Contact.Properties), want)
		sameLarge(t, "find", string(find(t, s, "big-a@x", "")[0].Properties), string(r.Contact.Properties))
	})
}

// onlyNames keeps the values of s's names only.
func onlyNames(s largeSide) largeSide {
	out := largeSide{names: s.names, vals: make(map[string]string, len(s.names))}
	for _, n := range s.names {
		out.vals[n] = s.vals[n]
	}
	return out
}

// withoutNulls drops the members that remove, as a stored object has none.
func (s largeSide) withoutNulls() largeSide {
	out := largeSide{vals: make(map[string]string, len(s.names))}
	for _, n := range s.names {
		if v := s.vals[n]; v != "null" {
			out.names = append(out.names, n)
			out.vals[n] = v
		}
	}
	return out
}

// sameLarge compares JSON too long to print whole: lengths and the first
// difference.
func sameLarge(t *testing.T, what, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	i := 0
	for i < min(len(got), len(want)) && got[i] == want[i] {
		i++
	}
	at := func(s string) string { return s[max(0, i-40):min(len(s), i+40)] }
	t.Errorf("%s: %d bytes, want %d; first difference at byte %d:\n got  …%s…\n want …%s…",
		what, len(got), len(want), i, at(got), at(want))
}
