package proxy

import (
	"net/netip"
	"time"

	"github.com/valyala/fasthttp"
)

// A well-behaved client does not provoke refusals for malformed requests or
// for passing a limit (400, 408, 413, 431). They are counted per client
// network, weighted by size; past maxRefusals in refusalWindow the network
// is refused at once, at accept and before its body is read, until the
// window ends (docs/operations.md § Limits). A flood of bombs or broken requests then
// costs a counter lookup each, and legitimate traffic keeps the CPU.
const (
	maxRefusals     = 30
	refusalWindow   = time.Minute
	refusalNetworks = 65536
)

// countsAsAbuse reports the statuses a refusal counter counts.
func countsAsAbuse(status int) bool {
	switch status {
	case fasthttp.StatusBadRequest, fasthttp.StatusRequestTimeout,
		fasthttp.StatusRequestEntityTooLarge, fasthttp.StatusRequestHeaderFieldsTooLarge:
		return true
	}
	return false
}

// refusalWeightBytes is the size of request body (declared, or decoded)
// that weighs one refusal more: a refused 20 MiB body or a bomb decoded to
// its cap cost far more than a broken one-liner, and counts as such. One refusal weighs at most
// maxRefusalWeight, so a mobile SDK that halves its batch after a 413 is
// not refused before its smaller retry.
const (
	refusalWeightBytes = 256 << 10
	maxRefusalWeight   = maxRefusals / 3
)

// noteRefusal counts an answer against its client when it is a refusal,
// weighted by the bytes it cost.
func (s *Server) noteRefusal(ctx *fasthttp.RequestCtx, status, bodyBytes int) {
	if countsAsAbuse(status) {
		s.abusers.failN(s.clientIP(ctx), time.Now(), min(maxRefusalWeight, 1+max(0, bodyBytes)/refusalWeightBytes))
	}
}

// penalized answers a request from a network past its refusals with 429 and
// the rest of its window as Retry-After; false when the network is not.
func (s *Server) penalized(ctx *fasthttp.RequestCtx) bool {
	now := time.Now()
	if !s.abusers.anyBlocked(now) {
		return false // no client address to work out on the common path
	}
	wait := s.abusers.blocked(s.clientIP(ctx), now)
	if wait <= 0 {
		return false
	}
	s.refuse(ctx, &bodyRefusal{status: fasthttp.StatusTooManyRequests, code: "too_many_refusals",
		msg: "too many refused requests from your address; retry later", retryAfter: retryAfterSeconds(wait)})
	return true
}

// penalizedAddr is the listener's check of a connecting peer.
func (s *Server) penalizedAddr(addr netip.Addr) bool {
	return s.abusers.blocked(addr.String(), time.Now()) > 0
}

// tooManyRefusals is written to a connection refused at accept for its
// network's refusals, before it is closed.
var tooManyRefusals = connAnswer429(int(refusalWindow/time.Second),
	`{"error":"too many refused requests from your address; retry later"}`)

// retryAfterSeconds rounds a wait up to whole seconds, at least one.
func retryAfterSeconds(wait time.Duration) int {
	return max(1, int((wait+time.Second-1)/time.Second))
}
