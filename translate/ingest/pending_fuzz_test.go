package ingest

import (
	"testing"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// FuzzPendingIdentity runs a script of keeps (plain and merging), carries
// and settles over four contacts and three keys, and checks after each step
// that the held set is consistent: every index names a held row, every held
// row is indexed once, the row count and byte estimate add up, and a carry
// of a contact returns it at the newest version kept since it last settled.
func FuzzPendingIdentity(f *testing.F) {
	f.Add([]byte{0, 0, 1, 1, 1, 2, 2, 0, 0, 3, 1, 9})
	f.Add([]byte{1, 0, 5, 1, 2, 6, 0, 0, 1, 2, 2, 0, 3, 0, 7})
	f.Fuzz(func(t *testing.T, script []byte) {
		ids := [4]uuid.UUID{{1}, {2}, {3}, {4}}
		keys := [3]string{"a@example.com", "b@example.com", "c@example.com"}
		row := func(id uuid.UUID, v uint64, deleted bool) canonical.Contact {
			c := canonical.Contact{ID: id, Version: v, Email: "x", Properties: []byte(`{"p":1}`)}
			if deleted {
				c.DeletedAt = 1
			}
			return c
		}
		alias := func(k string, to uuid.UUID, v uint64) canonical.Alias {
			return canonical.Alias{Kind: canonical.KindEmail, Value: k, ContactID: to, Version: v}
		}
		p := newPendingIdentity(1 << 20)
		newest := map[uuid.UUID]uint64{} // newest version kept since the contact last settled
		for len(script) >= 3 {
			op, ai, v := script[0]%4, int(script[1]%4), uint64(script[2])
			a := ids[ai]
			script = script[3:]
			switch op {
			case 0:
				p.keep(a, []canonical.Contact{row(a, v, false)}, []canonical.Alias{alias(keys[v%3], a, v)})
				newest[a] = max(newest[a], v)
			case 1:
				loser := ids[(ai+1)%4]
				p.keep(a, []canonical.Contact{row(a, v, false), row(loser, v, true)}, []canonical.Alias{alias(keys[v%3], a, v)})
				newest[a], newest[loser] = max(newest[a], v), max(newest[loser], v)
			case 2:
				var b canonical.Batch
				p.carry(&b, []uuid.UUID{a})
				p.settle(&b)
				for _, c := range b.Contacts {
					if newest[c.ID] == c.Version {
						delete(newest, c.ID)
					}
				}
			case 3:
				p.settle(&canonical.Batch{Contacts: []canonical.Contact{row(a, v, false)}})
				if newest[a] <= v {
					delete(newest, a)
				}
			}
			checkPending(t, p, newest)
		}
	})
}

func checkPending(t *testing.T, p *pendingIdentity, newest map[uuid.UUID]uint64) {
	t.Helper()
	rows, bytes := 0, 0
	for owner, pp := range p.people {
		if len(pp.contacts)+len(pp.aliases) == 0 {
			t.Fatalf("empty person %v kept", owner)
		}
		for id, c := range pp.contacts {
			if p.contactOwner[id] != owner {
				t.Fatalf("contact %v filed under %v, indexed under %v", id, owner, p.contactOwner[id])
			}
			if c.Version != newest[id] {
				t.Fatalf("contact %v held at version %d, newest kept %d", id, c.Version, newest[id])
			}
			rows++
			bytes += contactBytes(&c)
		}
		for k, a := range pp.aliases {
			if p.aliasOwner[k] != owner {
				t.Fatalf("alias %v filed under %v, indexed under %v", k, owner, p.aliasOwner[k])
			}
			rows++
			bytes += aliasBytes(&a)
		}
	}
	if len(p.contactOwner)+len(p.aliasOwner) != rows || int(p.rows.Load()) != rows || p.bytes != bytes {
		t.Fatalf("indexes %d+%d, counted %d rows %d bytes; held %d rows %d bytes",
			len(p.contactOwner), len(p.aliasOwner), p.rows.Load(), p.bytes, rows, bytes)
	}
	for id, v := range newest {
		if _, ok := p.contactOwner[id]; !ok {
			t.Fatalf("contact %v (newest version %d) is not held", id, v)
		}
	}
}
