package identity

import "strconv"

// Where a claim lives in Redis: a PostHog UUIDv7 claim is a field of the
// hash of its uuid's second, any other claim a key of its own
// (docs/redis-layout.md § 2). The slot depends on the key alone, so every
// attempt at one event meets the same claim.

// claimSlot is the Redis location of one claim.
type claimSlot struct {
	key   string // full Redis key, prefix included
	field string // hash field; "" for a claim that is a key of its own
	sec   int64  // the bucket's second (Unix), with a field
}

// claimSlotOf returns the slot of idempotency key k under prefix.
func claimSlotOf(prefix, k string) claimSlot {
	var s slotMaker
	return s.of(prefix, k)
}

// slotMaker finds claim slots, reusing the last bucket key it built while
// the second is the same: a request's events mostly share one or two.
type slotMaker struct {
	lastKey string
	lastSec int64
}

// of returns the slot of idempotency key k under prefix.
func (m *slotMaker) of(prefix, k string) claimSlot {
	sec, field, ok := bucketOf(k)
	if !ok {
		return claimSlot{key: prefix + "i:" + k}
	}
	if m.lastKey == "" || sec != m.lastSec {
		m.lastKey, m.lastSec = prefix+"ib:"+strconv.FormatInt(sec, 10), sec
	}
	return claimSlot{key: m.lastKey, field: field, sec: sec}
}

// bucketExpiry is the expiry (Unix ms) a write at wall with a window of
// windowMs gives the bucket of s: a new bucket expires a window later
// (nx); an existing one is extended to that time, but no later than two
// windows after its second (gt, which may be past: no extension).
func (s claimSlot) bucketExpiry(wall, windowMs int64) bucketExpiry {
	at := wall + windowMs
	return bucketExpiry{nx: at, gt: min(at, s.sec*1000+2*windowMs)}
}

// bucketExpiry is the expiry of a new bucket (nx) and the latest an existing
// one is extended to (gt), in Unix ms.
type bucketExpiry struct{ nx, gt int64 }

// later combines the expiries of two writes to one bucket.
func (e bucketExpiry) later(o bucketExpiry) bucketExpiry {
	return bucketExpiry{nx: max(e.nx, o.nx), gt: max(e.gt, o.gt)}
}

// arg is the expiry as one script argument, "<nx>:<gt>" (lib.lua claimIdem).
func (e bucketExpiry) arg() string {
	return strconv.FormatInt(e.nx, 10) + ":" + strconv.FormatInt(e.gt, 10)
}

// bucketOf reads a PostHog claim key "ph:<canonical UUIDv7>": the uuid's
// second and its 16 bytes. Any other key, an upper-case or v4 uuid included,
// is not bucketed (ok false). Canonical uuids are lower-case; another
// spelling is another key, as it was before buckets.
func bucketOf(k string) (sec int64, field string, ok bool) {
	const prefix = "ph:"
	if len(k) != len(prefix)+36 || k[:len(prefix)] != prefix {
		return 0, "", false
	}
	s := k[len(prefix):]
	if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return 0, "", false
	}
	var b [16]byte
	bad := byte(0)
	for j, at := range uuidHexAt {
		hi, lo := lowerHex[s[at]], lowerHex[s[at+1]]
		bad |= hi | lo
		b[j] = hi<<4 | lo&0x0f
	}
	if bad&0x80 != 0 || b[6]>>4 != 7 || b[8]>>6 != 2 { // version 7, RFC 9562 variant
		return 0, "", false
	}
	ms := int64(b[0])<<40 | int64(b[1])<<32 | int64(b[2])<<24 | int64(b[3])<<16 | int64(b[4])<<8 | int64(b[5])
	return ms / 1000, string(b[:]), true
}

// uuidHexAt is where each byte's two hex digits start in a canonical uuid.
var uuidHexAt = [16]uint8{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// lowerHex maps a lower-case hex digit to its value and any other byte to
// 0x80 (whose high bit bucketOf collects).
var lowerHex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0x80
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
	}
	return t
}()

// fieldClaimValue is the value of op's claim in a bucket at request time
// now: its ticket, or, as a field cannot expire on its own, 'p' and the
// deadline (Unix ms, base 36) past which it is stale, as a ticket has.
func fieldClaimValue(op *ResolveOp, now int64) string {
	if op.ClaimTicket != "" {
		return "t" + op.ClaimTicket
	}
	return "p" + strconv.FormatInt(now+PendingClaimWindow.Milliseconds(), 36)
}
