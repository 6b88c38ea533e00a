package identity

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/hogsend/hogsend-proxy/translate/jsontext"
)

// Property values are raw JSON bytes keyed by top-level name. The rules below
// are implemented twice, here (memory store, Redis reply assembly) and in
// lua/lib.lua; they must stay byte-for-byte identical, which the conformance
// suite checks by comparing exact JSON.
//
//   set(name, v):     null removes; "discord"/"telegram" with an object value
//                     merge one level into the current value (mergeObject);
//                     otherwise v replaces.
//   setOnce(name, v): only when name is absent; null is ignored.
//   overlay(name, v): contact merge (loser first, survivor on top): absent → v;
//                     nested name with object v → mergeObject(cur, v); else v.

// nestedMerge reports the top-level keys upstream merges one level deep.
func nestedMerge(name string) bool { return name == "discord" || name == "telegram" }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(s []byte, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// isNullJSON reports a property value that removes: absent, empty or null.
func isNullJSON(v []byte) bool {
	v = bytes.TrimSpace(v)
	return len(v) == 0 || string(v) == "null"
}

// isObjectJSON reports whether v starts like a JSON object.
func isObjectJSON(v []byte) bool {
	i := skipWS(v, 0)
	return i < len(v) && v[i] == '{'
}

// member is one raw member of a JSON object: Key keeps its quotes and escapes.
type member struct{ key, val []byte }

// splitObject appends the top-level members of the JSON object s to out. It
// checks structure only as far as needed to find member boundaries; ok is false
// when s is not an object.
func splitObject(s []byte, out []member) (_ []member, ok bool) {
	i := skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return out, false
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		return out, true
	}
	for {
		i = skipWS(s, i)
		if i >= len(s) || s[i] != '"' {
			return out, false
		}
		ks := i
		if i = skipString(s, i); i < 0 {
			return out, false
		}
		key := s[ks:i]
		i = skipWS(s, i)
		if i >= len(s) || s[i] != ':' {
			return out, false
		}
		i = skipWS(s, i+1)
		vs := i
		if i = skipValue(s, i); i < 0 {
			return out, false
		}
		out = append(out, member{key: key, val: s[vs:i]})
		i = skipWS(s, i)
		if i >= len(s) {
			return out, false
		}
		switch s[i] {
		case ',':
			i++
		case '}':
			return out, true
		default:
			return out, false
		}
	}
}

// skipString returns the index after the string starting at s[i] == '"', or -1.
func skipString(s []byte, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index after the value starting at s[i], or -1.
func skipValue(s []byte, i int) int {
	if i >= len(s) {
		return -1
	}
	switch s[i] {
	case '"':
		return skipString(s, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(s); j++ {
			switch s[j] {
			case '"':
				k := skipString(s, j)
				if k < 0 {
					return -1
				}
				j = k - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	for j := i; j < len(s); j++ {
		switch s[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if j == i {
				return -1
			}
			return j
		}
	}
	return len(s)
}

// mergeObject merges the members of patch into base one level deep: a null
// member removes, others replace in place or append. A base that is not an
// object counts as empty; a patch that is not an object is returned as a
// copy. The result never shares memory with patch, so the store may keep it.
func mergeObject(base, patch []byte) []byte {
	var bbuf, pbuf [16]member
	pm, ok := splitObject(patch, pbuf[:0])
	if !ok {
		return bytes.Clone(patch)
	}
	bm, ok := splitObject(base, bbuf[:0])
	if !ok {
		bm = bm[:0]
	}
	return appendMembers(nil, mergeMembers(bm, pm))
}

// mergeMembers applies pm to bm in order, through an index from key to the
// first live member with it, so a merge costs one pass over each side. A
// removed member keeps its place with a nil val. next chains the members of
// one key, which a stored object may repeat: as with a scan from the front,
// a change hits the first live one.
func mergeMembers(bm, pm []member) []member {
	first := make(map[string]int, len(bm)+len(pm))
	next := make([]int, len(bm), len(bm)+len(pm))
	for i := len(bm) - 1; i >= 0; i-- {
		k := viewString(bm[i].key)
		next[i] = -1
		if j, ok := first[k]; ok {
			next[i] = j
		}
		first[k] = i
	}
	for _, p := range pm {
		k := viewString(p.key)
		j, found := first[k]
		switch {
		case isNullJSON(p.val):
			if !found {
				continue
			}
			bm[j].val = nil
			if next[j] >= 0 {
				first[k] = next[j]
			} else {
				delete(first, k)
			}
		case found:
			bm[j].val = p.val
		default:
			first[k] = len(bm)
			bm = append(bm, p)
			next = append(next, -1)
		}
	}
	return bm
}

// appendMembers appends the live members (val not nil) to dst as one JSON
// object.
func appendMembers(dst []byte, ms []member) []byte {
	n := 2
	for _, m := range ms {
		n += len(m.key) + len(m.val) + 2
	}
	dst = slices.Grow(dst, n)
	dst = append(dst, '{')
	sep := false
	for _, m := range ms {
		if m.val == nil {
			continue
		}
		if sep {
			dst = append(dst, ',')
		}
		sep = true
		dst = append(dst, m.key...)
		dst = append(dst, ':')
		dst = append(dst, m.val...)
	}
	return append(dst, '}')
}

// viewString views b as a string without copying, for keys of a map that
// lives no longer than b and during which b is not written.
func viewString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// appendJSONString appends s as a JSON string literal. Property names come
// decoded from the request, so they must be escaped again when assembling.
func appendJSONString(dst []byte, s string) []byte { return jsontext.AppendString(dst, s) }

// decodeJSONKey turns a raw quoted member key into its string. Off the hot
// path (Restore only), so encoding/json handles the rare escaped key.
func decodeJSONKey(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// prop is one stored top-level property.
type prop struct {
	name string
	raw  []byte
}

// propList is a contact's properties sorted by name: lookups by binary search,
// JSON output in a stable order without sorting per read.
type propList []prop

func (l propList) index(name string) (int, bool) {
	lo, hi := 0, len(l)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if l[m].name < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(l) && l[lo].name == name
}

func (l propList) get(name string) ([]byte, bool) {
	if i, ok := l.index(name); ok {
		return l[i].raw, true
	}
	return nil, false
}

// put stores raw under name; raw must not be shared with the caller.
func (l *propList) put(name string, raw []byte) {
	i, ok := l.index(name)
	if ok {
		(*l)[i].raw = raw
		return
	}
	*l = append(*l, prop{})
	copy((*l)[i+1:], (*l)[i:])
	(*l)[i] = prop{name: strings.Clone(name), raw: raw}
}

func (l *propList) del(name string) {
	if i, ok := l.index(name); ok {
		*l = append((*l)[:i], (*l)[i+1:]...)
	}
}

// set applies one Set property (see the rules at the top of this file).
func (l *propList) set(name string, v []byte) {
	if isNullJSON(v) {
		l.del(name)
		return
	}
	if nestedMerge(name) && isObjectJSON(v) {
		cur, _ := l.get(name)
		l.put(name, mergeObject(cur, v))
		return
	}
	l.put(name, bytes.Clone(v))
}

// setOnce applies one SetOnce property.
func (l *propList) setOnce(name string, v []byte) {
	if isNullJSON(v) {
		return
	}
	if _, ok := l.index(name); !ok {
		l.put(name, bytes.Clone(v))
	}
}

// overlay lays src over l as a contact merge does (src wins): one pass over
// both sorted lists.
func (l *propList) overlay(src propList) {
	cur := *l
	out := make(propList, 0, len(cur)+len(src))
	i := 0
	for _, p := range src {
		for i < len(cur) && cur[i].name < p.name {
			out = append(out, cur[i])
			i++
		}
		if i < len(cur) && cur[i].name == p.name {
			if nestedMerge(p.name) && isObjectJSON(p.raw) {
				p.raw = mergeObject(cur[i].raw, p.raw)
			}
			i++
		}
		out = append(out, p)
	}
	*l = append(out, cur[i:]...)
}

// smallPatch is the size up to which a patch is applied in place: each new
// name shifts the list once, so a small patch stays linear in the list's
// length; a larger one is merged in one pass (applySorted).
const smallPatch = 64

// apply runs an op's patch: SetOnce first, so that Set wins for a name in
// both, then Unset, which wins over both.
func (l *propList) apply(op *ResolveOp) {
	if len(op.SetOnce)+len(op.Set)+len(op.Unset) > smallPatch {
		l.applySorted(op)
		return
	}
	l.applyInPlace(op)
}

// applyInPlace applies the patch one property at a time. A contact's first
// patch sizes the list once: grown by doubling, it would keep up to twice
// the room it needs for the contact's lifetime.
func (l *propList) applyInPlace(op *ResolveOp) {
	if *l == nil {
		*l = make(propList, 0, countValues(op.Set)+countValues(op.SetOnce))
	}
	for _, p := range op.SetOnce {
		l.setOnce(p.Name, p.Value)
	}
	for _, p := range op.Set {
		l.set(p.Name, p.Value)
	}
	for _, name := range op.Unset {
		l.del(name)
	}
}

// countValues counts the props that set a value (not null).
func countValues(ps []Prop) int {
	n := 0
	for _, p := range ps {
		if !isNullJSON(p.Value) {
			n++
		}
	}
	return n
}

// appendJSON appends the properties as one JSON object.
func (l propList) appendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	for i, p := range l {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, p.name)
		dst = append(dst, ':')
		dst = append(dst, p.raw...)
	}
	return append(dst, '}')
}

// jsonSize is the exact length appendJSON will add for names without escapes;
// a capacity hint.
func (l propList) jsonSize() int {
	n := 2
	for _, p := range l {
		n += len(p.name) + len(p.raw) + 4
	}
	return n
}
