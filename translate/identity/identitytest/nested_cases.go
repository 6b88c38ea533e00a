package identitytest

import (
	"testing"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// testNestedRepeatedKey: a stored "discord" object that repeats a key (rows
// written by other tools) merges as a scan from the front would: a change
// hits the first live member of the key, a removed key set again comes last.
func testNestedRepeatedKey(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	row := canonical.Contact{ID: uuid.Must(uuid.NewV7()), Email: "rep@x", Properties: []byte(`{"discord":{"a":1,"b":2,"a":3}}`),
		FirstSeenAt: T0, LastSeenAt: T0, CreatedAt: T0, UpdatedAt: T0, Version: 1}
	if err := s.Restore(ctx(t), canonical.Snapshot{Contacts: []canonical.Contact{row}}); err != nil {
		t.Fatalf("restore: %v", err)
	}
	f := func(patch, want string) {
		t.Helper()
		r := resolve1(t, s, withSet(op(T0+1, mail("rep@x")), set("discord", patch)))
		equal(t, patch, string(r.Contact.Properties), `{"discord":`+want+`}`)
	}
	f(`{"a":null,"c":4}`, `{"b":2,"a":3,"c":4}`)
	f(`{"a":5}`, `{"b":2,"a":5,"c":4}`)
	f(`{"a":null,"a":6}`, `{"b":2,"c":4,"a":6}`)
}
