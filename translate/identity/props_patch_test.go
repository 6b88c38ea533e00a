package identity

import (
	"fmt"
	"testing"
)

// patchNames and patchValues are what the patch tests draw from: the nested
// names, a name that needs escaping, and values of every kind the rules tell
// apart (null, objects, a malformed object, scalars).
var (
	patchNames  = []string{"a", "b", "c", "discord", "telegram", `q"k`}
	patchValues = []string{``, `null`, ` null `, `1`, `"s"`, `{}`, `{"id":1}`, `{"id":null,"n":2}`,
		`{"x":{"y":[1,"}"]}}`, `{"a"}`, `[1,2]`, `{"id":3,"id":4}`}
)

// patchFrom decodes a patch from data, three bytes a change: which part
// (set once, set, unset), a name, a value.
func patchFrom(data []byte) *ResolveOp {
	op := &ResolveOp{}
	for i := 0; i+2 < len(data); i += 3 {
		name := patchNames[int(data[i+1])%len(patchNames)]
		val := []byte(patchValues[int(data[i+2])%len(patchValues)])
		switch data[i] % 3 {
		case 0:
			op.SetOnce = append(op.SetOnce, Prop{Name: name, Value: val})
		case 1:
			op.Set = append(op.Set, Prop{Name: name, Value: val})
		default:
			op.Unset = append(op.Unset, name)
		}
	}
	return op
}

// TestApplySorted: a patch merged in one pass leaves the same properties as
// the same patch applied one change at a time.
func TestApplySorted(t *testing.T) {
	f := func(base, patch []byte) {
		t.Helper()
		if inPlace, sorted := applyBothWays(base, patch); inPlace != sorted {
			t.Errorf("base %v, patch %v: in place %s, sorted %s", base, patch, inPlace, sorted)
		}
	}
	f(nil, nil)
	f([]byte{1, 0, 3}, []byte{1, 0, 1, 0, 0, 4})                   // set a null, set once a
	f([]byte{1, 3, 6}, []byte{1, 3, 7, 1, 3, 4, 1, 3, 9})          // discord merges, replaced, malformed
	f([]byte{1, 4, 8}, []byte{2, 4, 0, 0, 4, 6, 1, 4, 6})          // unset telegram wins, set once first
	f([]byte{1, 5, 3, 1, 2, 3}, []byte{1, 5, 1, 0, 5, 4, 1, 1, 5}) // escaped name removed, set once ignored
	f([]byte{1, 3, 11}, []byte{1, 3, 7, 1, 3, 7, 1, 3, 6})         // a repeated stored key
}

func FuzzApplySorted(f *testing.F) {
	f.Add([]byte{1, 3, 6, 1, 0, 3}, []byte{1, 3, 7, 0, 1, 4, 2, 0, 0})
	f.Fuzz(func(t *testing.T, base, patch []byte) {
		if inPlace, sorted := applyBothWays(base, patch); inPlace != sorted {
			t.Fatalf("base %v, patch %v: in place %s, sorted %s", base, patch, inPlace, sorted)
		}
	})
}

// applyBothWays builds a contact's properties from the patch base, then
// applies patch in place and sorted, and returns both results as JSON.
func applyBothWays(base, patch []byte) (inPlace, sorted string) {
	var l propList
	l.applyInPlace(patchFrom(base))
	a, b := clonePropList(l), clonePropList(l)
	op := patchFrom(patch)
	a.applyInPlace(op)
	b.applySorted(op)
	return string(a.appendJSON(nil)), string(b.appendJSON(nil))
}

func clonePropList(l propList) propList { return append(propList(nil), l...) }

// TestOverlay: a contact merge in one pass over both lists leaves the same
// properties as a put per property.
func TestOverlay(t *testing.T) {
	f := func(dst, src []byte) {
		t.Helper()
		if byPut, merged := overlayBothWays(dst, src); byPut != merged {
			t.Errorf("dst %v, src %v: by put %s, merged %s", dst, src, byPut, merged)
		}
	}
	f(nil, nil)
	f([]byte{1, 0, 3}, nil)
	f(nil, []byte{1, 0, 3})
	f([]byte{1, 0, 3, 1, 3, 6, 1, 4, 9}, []byte{1, 0, 4, 1, 3, 7, 1, 4, 6, 1, 5, 5})
	f([]byte{1, 3, 11}, []byte{1, 3, 7})
	f([]byte{1, 2, 3}, []byte{1, 0, 4, 1, 1, 4})
}

func FuzzOverlay(f *testing.F) {
	f.Add([]byte{1, 0, 3, 1, 3, 6}, []byte{1, 3, 7, 1, 5, 4})
	f.Fuzz(func(t *testing.T, dst, src []byte) {
		if byPut, merged := overlayBothWays(dst, src); byPut != merged {
			t.Fatalf("dst %v, src %v: by put %s, merged %s", dst, src, byPut, merged)
		}
	})
}

func overlayBothWays(dst, src []byte) (byPut, merged string) {
	var d, s propList
	d.applyInPlace(patchFrom(dst))
	s.applyInPlace(patchFrom(src))
	a, b := clonePropList(d), clonePropList(d)
	overlayByPut(&a, s)
	b.overlay(s)
	return string(a.appendJSON(nil)), string(b.appendJSON(nil))
}

// TestApplyLargePatch: a patch over smallPatch takes the sorted path, with
// the same result as in place (names and order of a few hundred changes).
func TestApplyLargePatch(t *testing.T) {
	var l propList
	base := &ResolveOp{}
	for i := range 300 {
		base.Set = append(base.Set, Prop{Name: fmt.Sprint("p", (i*7)%300), Value: []byte(fmt.Sprint(i))})
	}
	l.apply(base)
	op := &ResolveOp{Unset: []string{"p5", "nope"}}
	for i := range 200 {
		v := []byte(fmt.Sprint(-i))
		if i%5 == 0 {
			v = []byte("null")
		}
		op.Set = append(op.Set, Prop{Name: fmt.Sprint("p", (i*11)%400), Value: v})
		op.SetOnce = append(op.SetOnce, Prop{Name: fmt.Sprint("p", (i*13)%500), Value: []byte(`"once"`)})
	}
	a, b := clonePropList(l), clonePropList(l)
	a.applyInPlace(op)
	b.apply(op)
	if got, want := string(b.appendJSON(nil)), string(a.appendJSON(nil)); got != want {
		t.Fatalf("sorted patch:\n%s\nin place:\n%s", got, want)
	}
	if len(b) < 300 {
		t.Fatalf("%d properties after the patch, want more than the 300 before", len(b))
	}
}
