package ingest

import (
	"unsafe"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// claimKeyLen is the length of a PostHog event's claim key: "ph:" and a
// uuid's text.
const claimKeyLen = 3 + 36

// claimKeys makes the claim keys of one request's events in one buffer
// instead of one allocation each (docs/architecture.md § Allocations). The
// buffer only grows: the bytes under a key handed out are never written
// again, so the key stays valid however long a claim queue keeps it.
type claimKeys struct{ buf []byte }

// of is the idempotency key of a PostHog event with client uuid id.
func (k *claimKeys) of(id uuid.UUID) string {
	start := len(k.buf)
	k.buf = canonical.AppendUUID(append(k.buf, "ph:"...), id)
	key := k.buf[start:]
	return unsafe.String(unsafe.SliceData(key), len(key))
}
