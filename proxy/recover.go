package proxy

import (
	"fmt"
	"runtime/debug"

	"github.com/valyala/fasthttp"
)

// recoverPanic turns a handler's panic into a 500 in the route's error shape,
// logged once with its stack and counted, so that no request can stop the
// process. Deferred by handle.
func (s *Server) recoverPanic(ctx *fasthttp.RequestCtx) {
	p := recover()
	if p == nil {
		return
	}
	s.metrics.panics.Inc()
	s.log.Error("handler panic", "method", string(ctx.Method()), "path", string(ctx.Path()),
		"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	ctx.Response.Reset()
	ctx.SetConnectionClose()
	if isCapturePath(string(ctx.Path())) {
		posthogCORS(ctx)
		writeCaptureShape(ctx, fasthttp.StatusInternalServerError, "server_error", "internal_error", "internal error")
		return
	}
	setCORS(ctx)
	writeError(ctx, fasthttp.StatusInternalServerError, "internal error")
}
