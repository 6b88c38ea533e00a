package proxy

import (
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/ingest"
	"github.com/hogsend/hogsend-proxy/translate/jsontext"
)

// unavailableReason names the dependency behind a 503 without the error's
// text, which may hold addresses and paths; that goes to the log.
func unavailableReason(err error) string {
	switch {
	case errors.Is(err, identity.ErrUnavailable):
		return "identity store unavailable"
	case errors.Is(err, ingest.ErrNotDurable):
		return "spool unavailable: request not made durable"
	case errors.Is(err, ingest.ErrClaimPending):
		return ingest.ErrClaimPending.Error()
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
	b = jsontext.AppendString(b, kind)
	b = append(b, `,"code":`...)
	b = jsontext.AppendString(b, code)
	b = append(b, `,"detail":`...)
	b = jsontext.AppendString(b, detail)
	writeJSON(ctx, status, append(b, '}'))
}
