package proxy

import (
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/translate"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// unavailableReason names the dependency behind a 503 without the error's
// text, which may hold addresses and paths; that goes to the log.
func unavailableReason(err error) string {
	switch {
	case errors.Is(err, identity.ErrUnavailable):
		return "identity store unavailable"
	case errors.Is(err, translate.ErrNotDurable):
		return "spool unavailable: request not made durable"
	case errors.Is(err, translate.ErrClaimPending):
		return translate.ErrClaimPending.Error()
	}
	return "service unavailable"
}

// writeCaptureUnavailable answers a capture request that was not
// acknowledged: 503 + Retry-After, which every SDK retries.
func (s *Server) writeCaptureUnavailable(ctx *fasthttp.RequestCtx, err error) {
	s.log.Warn("capture not acknowledged", "err", err)
	ctx.Response.Header.Set("Retry-After", "1")
	s.metrics.posthogRejected("unavailable")
	writeCaptureShape(ctx, fasthttp.StatusServiceUnavailable, "server_error", "unavailable", unavailableReason(err))
}

// writeCaptureShape writes capture's error body {"type","code","detail"}.
func writeCaptureShape(ctx *fasthttp.RequestCtx, status int, kind, code, detail string) {
	b := append(make([]byte, 0, 96+len(detail)), `{"type":`...)
	b = translate.AppendJSONString(b, kind)
	b = append(b, `,"code":`...)
	b = translate.AppendJSONString(b, code)
	b = append(b, `,"detail":`...)
	b = translate.AppendJSONString(b, detail)
	writeJSON(ctx, status, append(b, '}'))
}
