package identity

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// ErrNoKeys is the per-op error of a ResolveOp without any non-empty identity key.
var ErrNoKeys = errors.New("resolve: no identity keys")

// DefaultIdempotencyWindow applies to ops whose IdempotencyWindow is zero.
const DefaultIdempotencyWindow = 7 * 24 * time.Hour

// Key slots, in precedence order; both implementations index keys by them.
const (
	slotExternal = iota
	slotEmail
	slotAnonymous
	numSlots
)

var slotKinds = [numSlots]string{canonical.KindExternal, canonical.KindEmail, canonical.KindAnonymous}

func slotOf(kind string) int {
	switch kind {
	case canonical.KindExternal:
		return slotExternal
	case canonical.KindEmail:
		return slotEmail
	case canonical.KindAnonymous:
		return slotAnonymous
	}
	return -1
}

// opKeys holds one op's normalised key values by slot; "" means absent.
type opKeys [numSlots]string

// prepareOp validates an op and normalises its keys. Keys are normalised again
// here (cheap when already normal) so that a caller's slip cannot split one
// person into two contacts.
func prepareOp(op *ResolveOp) (opKeys, error) {
	var k opKeys
	n := 0
	for _, key := range op.Keys {
		s := slotOf(key.Kind)
		if s < 0 {
			return k, fmt.Errorf("resolve: unknown identity key kind %q", key.Kind)
		}
		v := key.Value
		if s == slotEmail {
			v = NormalizeEmail(v)
		} else {
			v = NormalizeID(v)
		}
		if v == "" {
			continue
		}
		if k[s] != "" && k[s] != v {
			return k, fmt.Errorf("resolve: two %s keys in one op", key.Kind)
		}
		if k[s] == "" {
			n++
		}
		k[s] = v
	}
	if n == 0 {
		return k, ErrNoKeys
	}
	if !op.NoCreate && op.NewID == uuid.Nil {
		return k, errors.New("resolve: op that may create a contact has no NewID")
	}
	return k, nil
}

// idempotencyMillis is the claim window of op in milliseconds, at least 1
// (Redis rejects PX 0).
func idempotencyMillis(op *ResolveOp) int64 {
	w := op.IdempotencyWindow
	if w <= 0 {
		w = DefaultIdempotencyWindow
	}
	return max(w.Milliseconds(), 1)
}
