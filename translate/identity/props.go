package identity

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"

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
// object counts as empty; a patch that is not an object is returned as is.
func mergeObject(base, patch []byte) []byte {
	var bbuf, pbuf [16]member
	pm, ok := splitObject(patch, pbuf[:0])
	if !ok {
		return patch
	}
	bm, ok := splitObject(base, bbuf[:0])
	if !ok {
		bm = bm[:0]
	}
	for _, p := range pm {
		j := -1
		for k := range bm {
			if bytes.Equal(bm[k].key, p.key) {
				j = k
				break
			}
		}
		switch {
		case isNullJSON(p.val):
			if j >= 0 {
				bm = append(bm[:j], bm[j+1:]...)
			}
		case j >= 0:
			bm[j].val = p.val
		default:
			bm = append(bm, p)
		}
	}
	n := 2
	for _, m := range bm {
		n += len(m.key) + len(m.val) + 2
	}
	out := make([]byte, 0, n)
	out = append(out, '{')
	for k, m := range bm {
		if k > 0 {
			out = append(out, ',')
		}
		out = append(out, m.key...)
		out = append(out, ':')
		out = append(out, m.val...)
	}
	return append(out, '}')
}

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

// overlay lays src over l as a contact merge does (src wins).
func (l *propList) overlay(src propList) {
	for _, p := range src {
		cur, ok := l.get(p.name)
		if ok && nestedMerge(p.name) && isObjectJSON(p.raw) {
			l.put(p.name, mergeObject(cur, p.raw))
			continue
		}
		l.put(p.name, p.raw)
	}
}

// apply runs an op's patch: SetOnce first, so that Set wins for a name in
// both, then Unset, which wins over both.
func (l *propList) apply(op *ResolveOp) {
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
