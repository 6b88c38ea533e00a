package ingest

import (
	"unsafe"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// eventRecords holds what one native event's request builds (its identity
// keys, its resolve, its records and the references its write keeps) in
// one allocation instead of one each (docs/architecture.md § Allocations).
// It is never reused: the strings made from it stay valid.
type eventRecords struct {
	keys     [3]identity.Key
	res      identity.ResolveResult
	found    [1]*identity.ResolveResult
	added    [1]*identity.ResolveResult
	contacts [1]canonical.Contact
	events   [1]canonical.Event
	claimed  [1]string
	keyText  [36]byte
}

// contactKey is res's canonical contact key (canonical.Contact.Key), its
// id's text kept in r.
func (r *eventRecords) contactKey(c *canonical.Contact) string {
	if c.ExternalID != "" || c.AnonymousID != "" {
		return c.Key()
	}
	b := canonical.AppendUUID(r.keyText[:0], c.ID)
	return unsafe.String(unsafe.SliceData(b), len(b))
}
