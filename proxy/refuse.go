package proxy

import (
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"
)

// refuse answers a request the edge will not serve (body too large, budget
// full, body too slow or broken) in its route's error shape, with CORS so a
// browser SDK can read why, and ends the connection: its body is unread.
func (s *Server) refuse(ctx *fasthttp.RequestCtx, r *bodyRefusal) {
	s.metrics.refused(r.code)
	ctx.SetConnectionClose()
	if c, ok := ctx.Conn().(*edgeConn); ok && r.status != fasthttp.StatusRequestTimeout {
		c.lingerOnClose()
	}
	if r.status == fasthttp.StatusTooManyRequests {
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(max(1, r.retryAfter)))
	}
	if isCapturePath(string(ctx.Path())) {
		posthogCORS(ctx)
		writeCaptureShape(ctx, r.status, refusalKind(r.status), r.code, r.msg)
		return
	}
	setCORS(ctx)
	writeError(ctx, r.status, r.msg)
}

// refusalKind is capture's "type" for an edge refusal.
func refusalKind(status int) string {
	if status == fasthttp.StatusTooManyRequests {
		return "rate_limited"
	}
	return "validation_error"
}

// isCapturePath reports the PostHog capture paths, which answer errors in
// capture's {"type","code","detail"} shape.
func isCapturePath(path string) bool {
	return captureRoutes[strings.TrimSuffix(path, "/")]
}
