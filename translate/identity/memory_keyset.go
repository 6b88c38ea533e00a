package identity

import "slices"

// smallKeySet is the most keys a keySet holds in its slice.
const smallKeySet = 8

// keySet is the set of alias keys pointing at a contact. Most contacts have
// a few, which a slice holds in one small allocation; a map takes a group of
// eight slots however few keys it holds, so it takes over only past
// smallKeySet, keeping a contact with many keys cheap to update.
type keySet struct {
	small []Key
	big   map[Key]struct{}
}

func (s *keySet) add(k Key) {
	if s.big != nil {
		s.big[k] = struct{}{}
		return
	}
	if slices.Contains(s.small, k) {
		return
	}
	if len(s.small) < smallKeySet {
		s.small = append(s.small, k)
		return
	}
	s.big = make(map[Key]struct{}, 2*smallKeySet)
	for _, x := range s.small {
		s.big[x] = struct{}{}
	}
	s.big[k] = struct{}{}
	s.small = nil
}

func (s *keySet) del(k Key) {
	if s.big != nil {
		delete(s.big, k)
		return
	}
	if i := slices.Index(s.small, k); i >= 0 {
		s.small = slices.Delete(s.small, i, i+1)
	}
}

func (s *keySet) clear() { s.small, s.big = nil, nil }

// sortedKeys orders alias keys by "kind:value" bytes, as lua/lib.lua does, so
// both stores emit alias rows in one order.
func sortedKeys(s keySet) []Key {
	ks := slices.Clone(s.small)
	for k := range s.big {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, compareKeys)
	return ks
}
