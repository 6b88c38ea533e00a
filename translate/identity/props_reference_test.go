package identity

import "bytes"

// The straightforward forms of the property merges, one change at a time
// with a scan per lookup: the rules as first written, kept as the oracle the
// one-pass merges are checked against.

// mergeObjectByScan is mergeObject with a linear search per patch member.
func mergeObjectByScan(base, patch []byte) []byte {
	pm, ok := splitObject(patch, nil)
	if !ok {
		return patch
	}
	bm, ok := splitObject(base, nil)
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
	return appendMembers(nil, bm)
}

// overlayByPut is overlay as a put per property of src.
func overlayByPut(l *propList, src propList) {
	for _, p := range src {
		cur, ok := l.get(p.name)
		if ok && nestedMerge(p.name) && isObjectJSON(p.raw) {
			l.put(p.name, mergeObjectByScan(cur, p.raw))
			continue
		}
		l.put(p.name, p.raw)
	}
}
