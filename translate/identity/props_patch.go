package identity

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
)

// A large patch is applied as a merge of two sorted lists: its changes sorted
// by name (then by position, so a name's changes keep the order apply gives
// them) and the contact's properties. Each name's changes then run in order on its
// current value, exactly as applyInPlace would run them.

// changeKind says which part of a patch a change comes from.
type changeKind uint8

const (
	changeSetOnce changeKind = iota
	changeSet
	changeUnset
)

// change is one entry of a patch; at is its position in application order.
type change struct {
	name string
	val  []byte
	kind changeKind
	at   int
}

// applySorted applies op's patch in one pass over the list.
func (l *propList) applySorted(op *ResolveOp) {
	cs := patchChanges(op)
	cur := *l
	out := make(propList, 0, len(cur)+len(cs))
	i := 0
	for g := 0; g < len(cs); {
		name := cs[g].name
		for i < len(cur) && cur[i].name < name {
			out = append(out, cur[i])
			i++
		}
		p, had := prop{}, i < len(cur) && cur[i].name == name
		if had {
			p = cur[i]
			i++
		}
		end := g + 1
		for end < len(cs) && cs[end].name == name {
			end++
		}
		if raw, ok := runChanges(p.raw, had, cs[g:end]); ok {
			if !had {
				p.name = strings.Clone(name)
			}
			p.raw = raw
			out = append(out, p)
		}
		g = end
	}
	*l = append(out, cur[i:]...)
}

// patchChanges lists op's changes in application order, then sorts them by
// name, keeping that order within a name.
func patchChanges(op *ResolveOp) []change {
	cs := make([]change, 0, len(op.SetOnce)+len(op.Set)+len(op.Unset))
	for _, p := range op.SetOnce {
		cs = append(cs, change{name: p.Name, val: p.Value, kind: changeSetOnce, at: len(cs)})
	}
	for _, p := range op.Set {
		cs = append(cs, change{name: p.Name, val: p.Value, kind: changeSet, at: len(cs)})
	}
	for _, name := range op.Unset {
		cs = append(cs, change{name: name, kind: changeUnset, at: len(cs)})
	}
	slices.SortFunc(cs, func(a, b change) int { return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.at, b.at)) })
	return cs
}

// runChanges applies one name's changes to its value raw (present when has)
// by the rules of set, setOnce and del, and returns what is left. Values kept
// are copies.
func runChanges(raw []byte, has bool, cs []change) ([]byte, bool) {
	for _, c := range cs {
		switch {
		case c.kind == changeSetOnce:
			if !has && !isNullJSON(c.val) {
				raw, has = bytes.Clone(c.val), true
			}
		case c.kind == changeUnset || isNullJSON(c.val):
			raw, has = nil, false
		case nestedMerge(c.name) && isObjectJSON(c.val):
			raw, has = mergeObject(raw, c.val), true
		default:
			raw, has = bytes.Clone(c.val), true
		}
	}
	return raw, has
}
