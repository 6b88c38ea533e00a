package identity

import (
	"fmt"
	"slices"
	"testing"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// TestKeySet: adds and deletes, across the switch from slice to map, leave
// the same keys as a map would, in sortedKeys' order.
func TestKeySet(t *testing.T) {
	key := func(i int) Key { return Key{Kind: slotKinds[i%numSlots], Value: fmt.Sprint("v", i%13)} }
	f := func(ops int, delEvery int) {
		t.Helper()
		var s keySet
		want := map[Key]struct{}{}
		for i := range ops {
			k := key(i)
			if delEvery > 0 && i%delEvery == 0 {
				s.del(k)
				delete(want, k)
				continue
			}
			s.add(k)
			want[k] = struct{}{}
		}
		ref := make([]Key, 0, len(want))
		for k := range want {
			ref = append(ref, k)
		}
		slices.SortFunc(ref, compareKeys)
		if got := sortedKeys(s); !slices.Equal(got, ref) {
			t.Errorf("%d ops, delete every %d: %v, want %v", ops, delEvery, got, ref)
		}
		// Without a map, the slice holds every key; past smallKeySet, a map.
		if s.big == nil && (len(s.small) != len(ref) || len(ref) > smallKeySet) {
			t.Errorf("%d ops: %d keys in the slice and no map, for %d keys", ops, len(s.small), len(ref))
		}
	}
	f(0, 0)
	f(3, 0)
	f(8, 0)  // a full slice
	f(9, 0)  // one past: a map
	f(40, 0) // repeated keys
	f(40, 3)
	f(12, 2)
	f(6, 2)

	var s keySet
	s.add(Key{canonical.KindEmail, "a@x"})
	s.clear()
	if len(sortedKeys(s)) != 0 {
		t.Errorf("cleared set holds %v", sortedKeys(s))
	}
}
