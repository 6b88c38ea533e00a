package identity

import (
	"testing"

	"github.com/google/uuid"
)

func TestClaimSlotOf(t *testing.T) {
	f := func(key, wantKey string, wantField []byte) {
		t.Helper()
		got := claimSlotOf("hs:", key)
		if got.key != wantKey || got.field != string(wantField) {
			t.Errorf("claimSlotOf(%q) = %q %x, want %q %x", key, got.key, got.field, wantKey, wantField)
		}
	}
	// 0x019e1a2b3c4d ms = 1,778,555,501,645 ms.
	v7 := "019e1a2b-3c4d-7abc-9def-0123456789ab"
	field := uuid.MustParse(v7)
	f("ph:"+v7, "hs:ib:1778555501", field[:])
	f("ph:"+"019E1A2B-3C4D-7ABC-9DEF-0123456789AB", "hs:i:ph:019E1A2B-3C4D-7ABC-9DEF-0123456789AB", nil) // not canonical
	f("ph:019e1a2b-3c4d-4abc-9def-0123456789ab", "hs:i:ph:019e1a2b-3c4d-4abc-9def-0123456789ab", nil)    // v4
	f("ph:019e1a2b-3c4d-7abc-cdef-0123456789ab", "hs:i:ph:019e1a2b-3c4d-7abc-cdef-0123456789ab", nil)    // other variant
	f("ph:019e1a2b-3c4d-7abc-9def-0123456789a", "hs:i:ph:019e1a2b-3c4d-7abc-9def-0123456789a", nil)      // short
	f("ph:019e1a2b03c4d-7abc-9def-0123456789ab", "hs:i:ph:019e1a2b03c4d-7abc-9def-0123456789ab", nil)    // no dash
	f("ph:019e1a2b-3c4d-7abc-9def-0123456789ag", "hs:i:ph:019e1a2b-3c4d-7abc-9def-0123456789ag", nil)    // not hex
	f("nx:"+v7, "hs:i:nx:"+v7, nil)
	f(v7, "hs:i:"+v7, nil)
	f("order-42", "hs:i:order-42", nil)
}

// FuzzBucketOf: a key is bucketed only when it is "ph:" and a canonical
// UUIDv7, and then its field is that uuid and its second the uuid's.
func FuzzBucketOf(f *testing.F) {
	f.Add("ph:019e1a2b-3c4d-7abc-9def-0123456789ab")
	f.Add("ph:019e1a2b-3c4d-4abc-9def-0123456789ab")
	f.Add("ph:ffffffff-ffff-7fff-bfff-ffffffffffff")
	f.Add("order-42")
	f.Fuzz(func(t *testing.T, k string) {
		sec, field, ok := bucketOf(k)
		if !ok {
			if len(k) == 39 && k[:3] == "ph:" {
				if u, err := uuid.Parse(k[3:]); err == nil && u.Version() == 7 && u.Variant() == uuid.RFC4122 && u.String() == k[3:] {
					t.Fatalf("canonical UUIDv7 key %q not bucketed", k)
				}
			}
			return
		}
		if len(field) != 16 {
			t.Fatalf("field of %d bytes", len(field))
		}
		u := uuid.UUID([]byte(field))
		if "ph:"+u.String() != k || u.Version() != 7 || u.Variant() != uuid.RFC4122 {
			t.Fatalf("bucketed %q as %s", k, u)
		}
		if want := int64(uint64(field[0])<<40|uint64(field[1])<<32|uint64(field[2])<<24|uint64(field[3])<<16|uint64(field[4])<<8|uint64(field[5])) / 1000; sec != want {
			t.Fatalf("second %d, want %d", sec, want)
		}
	})
}
