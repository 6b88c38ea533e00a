package proxy

import (
	"context"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/translate/jsontext"
)

var (
	contentTypeJSON = []byte("application/json")
)

func writeJSON(ctx *fasthttp.RequestCtx, status int, body []byte) {
	ctx.SetStatusCode(status)
	ctx.Response.Header.SetContentTypeBytes(contentTypeJSON)
	ctx.Response.SetBodyRaw(body)
}

// writeError answers {"error": msg}, the shape of every upstream handler error.
func writeError(ctx *fasthttp.RequestCtx, status int, msg string) {
	b := append(make([]byte, 0, len(msg)+12), `{"error":`...)
	b = jsontext.AppendString(b, msg)
	writeJSON(ctx, status, append(b, '}'))
}

// writeUnavailable answers 503 with Retry-After: the request was not
// acknowledged and may be retried.
func writeUnavailable(ctx *fasthttp.RequestCtx, msg string) {
	ctx.Response.Header.Set("Retry-After", "1")
	writeError(ctx, fasthttp.StatusServiceUnavailable, msg)
}

// setCORS mirrors upstream: the request Origin is echoed (or * when absent),
// credentials off.
func setCORS(ctx *fasthttp.RequestCtx) {
	origin := ctx.Request.Header.Peek("Origin")
	if len(origin) == 0 {
		ctx.Response.Header.Set("Access-Control-Allow-Origin", "*")
		return
	}
	ctx.Response.Header.SetBytesV("Access-Control-Allow-Origin", origin)
	ctx.Response.Header.Set("Vary", "Origin")
}

func preflight(ctx *fasthttp.RequestCtx) {
	setCORS(ctx)
	ctx.Response.Header.Set("Access-Control-Allow-Methods", "GET,HEAD,PUT,POST,DELETE,PATCH")
	if h := ctx.Request.Header.Peek("Access-Control-Request-Headers"); len(h) > 0 {
		ctx.Response.Header.SetBytesV("Access-Control-Allow-Headers", h)
		ctx.Response.Header.Add("Vary", "Access-Control-Request-Headers")
	}
	ctx.Response.Header.Set("Access-Control-Max-Age", strconv.Itoa(86400))
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// appendISO writes Unix ms as JavaScript's toISOString does.
func appendISO(dst []byte, ms int64) []byte {
	return time.UnixMilli(ms).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z")
}

// requestContext is the context handed to translate. fasthttp cancels a
// RequestCtx as soon as Shutdown starts, which would refuse requests already
// being handled; a graceful shutdown must finish them, so the cancellation is
// dropped (the shutdown bound is enforced by the caller of Shutdown).
func requestContext(ctx *fasthttp.RequestCtx) context.Context {
	return context.WithoutCancel(ctx)
}
