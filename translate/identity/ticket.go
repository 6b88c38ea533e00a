package identity

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// A claim ticket names the idempotency claims of one request, so that one
// write confirms them all: a PostHog batch of 50 events costs Redis 51 writes
// instead of 100. Its form is "<deadline>.<nonce>": the deadline (Unix ms,
// base 36) after which its claims, still unconfirmed, are stale and may be
// taken over, and 64 random bits that keep concurrent tickets apart. The
// deadline travels in the ticket so that a store can judge a claim without a
// second key per request.

// NewClaimTicket returns a fresh ticket for claims made at now (Unix ms).
func NewClaimTicket(now int64) string {
	var nonce [8]byte
	_, _ = rand.Read(nonce[:]) // never fails on Linux (getrandom)
	b := make([]byte, 0, 8+1+11)
	b = strconv.AppendInt(b, now+PendingClaimWindow.Milliseconds(), 36)
	b = append(b, '.')
	b = base64.RawURLEncoding.AppendEncode(b, nonce[:])
	return string(b)
}

// ticketDeadline is the deadline of ticket t, or false when t is malformed.
func ticketDeadline(t string) (int64, bool) {
	head, _, ok := strings.Cut(t, ".")
	if !ok {
		return 0, false
	}
	ms, err := strconv.ParseInt(head, 36, 64)
	return ms, err == nil
}

// checkTicket refuses an op whose claim ticket is not one NewClaimTicket made.
func checkTicket(op *ResolveOp) error {
	if op.ClaimTicket == "" {
		return nil
	}
	if _, ok := ticketDeadline(op.ClaimTicket); !ok {
		return fmt.Errorf("resolve: malformed claim ticket %q", op.ClaimTicket)
	}
	return nil
}
