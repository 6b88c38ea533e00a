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

// prepared is a validated op: its Keys by slot and its PostHog distinct ids,
// normalised. mergeFrom is "" when absent or equal to distinct.
type prepared struct {
	keys       opKeys
	distinct   string
	mergeFrom  string
	provenUser string
	emailClaim string
}

// prepareOp validates an op and normalises its keys. Keys are normalised again
// here (cheap when already normal) so that a caller's slip cannot split one
// person into two contacts.
func prepareOp(op *ResolveOp) (prepared, error) {
	var p prepared
	k := &p.keys
	n := 0
	for _, key := range op.Keys {
		s := slotOf(key.Kind)
		if s < 0 {
			return p, fmt.Errorf("resolve: unknown identity key kind %q", key.Kind)
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
			return p, fmt.Errorf("resolve: two %s keys in one op", key.Kind)
		}
		if k[s] == "" {
			n++
		}
		k[s] = v
	}
	if op.Distinct != "" || op.MergeFrom != "" || op.Identify {
		p.distinct = NormalizeID(op.Distinct)
		if p.mergeFrom = NormalizeID(op.MergeFrom); p.mergeFrom == p.distinct {
			p.mergeFrom = ""
		}
		if p.distinct == "" && (p.mergeFrom != "" || op.Identify) {
			return p, errors.New("resolve: Identify or MergeFrom without Distinct")
		}
		if p.distinct != "" {
			n++
		}
	}
	p.provenUser, p.emailClaim = NormalizeID(op.ProvenUser), NormalizeEmail(op.EmailClaim)
	if p.distinct == "" && (op.Trust != TrustFull || p.provenUser != "" || p.emailClaim != "") {
		return p, errors.New("resolve: Trust, ProvenUser or EmailClaim without Distinct")
	}
	if n == 0 {
		return p, ErrNoKeys
	}
	if !op.NoCreate && op.NewID == uuid.Nil {
		return p, errors.New("resolve: op that may create a contact has no NewID")
	}
	return p, nil
}

// wkey is one key an op may write: a slot and a normalised value.
type wkey struct {
	slot int
	val  string
}

// writeKeys lists the keys an op writes, in order: Keys by slot, then
// Distinct, then MergeFrom. A kind can occur twice (Keys' external id and an
// identified Distinct): the first fills an empty column, the second only
// becomes an alias, as in fill-in-link. lua/resolve.lua builds the same list.
type writeKeys struct {
	n int
	k [numSlots + 2]wkey
}

func (w *writeKeys) add(slot int, v string) {
	for _, x := range w.k[:w.n] {
		if x.slot == slot && x.val == v {
			return
		}
	}
	w.k[w.n] = wkey{slot, v}
	w.n++
}

// first is the first value written for slot, or "".
func (w *writeKeys) first(slot int) string {
	for _, x := range w.k[:w.n] {
		if x.slot == slot {
			return x.val
		}
	}
	return ""
}

// newWriteKeys builds the write list once the lookups are done: Distinct is
// written when Identify is set (as external) or when it matched no contact
// (as anonymous); MergeFrom when it matched no contact (as anonymous; a
// refused merge always matched one).
func newWriteKeys(p *prepared, identify, distinctFound, mergeFromFound bool) writeKeys {
	var w writeKeys
	for s, v := range p.keys {
		if v != "" {
			w.add(s, v)
		}
	}
	if p.distinct != "" {
		if identify {
			w.add(slotExternal, p.distinct)
		} else if !distinctFound {
			w.add(slotAnonymous, p.distinct)
		}
	}
	if p.mergeFrom != "" && !mergeFromFound {
		w.add(slotAnonymous, p.mergeFrom)
	}
	return w
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
