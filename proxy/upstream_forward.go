package proxy

import (
	"bytes"
	"errors"
	"strconv"

	"github.com/sony/gobreaker/v2"
	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/internal/hostclient"
)

// hopByHop are the headers that describe one connection, not the message
// (RFC 9110 § 7.6.1): never forwarded either way, nor any header the
// Connection header names.
var hopByHop = []string{
	"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection",
	"TE", "Trailer", "Transfer-Encoding", "Upgrade",
}

// forward sends the request in ctx to the engine and answers with the
// engine's answer. While the breaker is open, or the engine cannot be
// reached, it answers 503 with Retry-After at once; past the timeout, 504.
func (s *Server) forward(ctx *fasthttp.RequestCtx) {
	u := s.upstream
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	u.outgoing(ctx, req, s.forwardedFor(ctx))
	_, err := u.breaker.Execute(func() (struct{}, error) { return struct{}{}, u.exchange(req, resp) })
	switch {
	case err == nil, errors.Is(err, errEngineAnswered):
		s.metrics.upstream("relayed")
		relayAnswer(ctx, resp)
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		s.engineUnavailable(ctx, int(u.openFor.Seconds()+0.999), "hogsend engine unavailable; retry later")
	case errors.Is(err, fasthttp.ErrTimeout):
		s.metrics.upstream("timeout")
		setCORS(ctx)
		writeError(ctx, fasthttp.StatusGatewayTimeout, "hogsend engine did not answer in time")
	default:
		s.log.Warn("hogsend engine exchange failed", "err", err)
		s.engineUnavailable(ctx, 1, "hogsend engine unreachable; retry later")
	}
}

// errEngineAnswered is an answer the breaker counts as a failure (502, 503,
// 504) but that is relayed to the client as the engine sent it.
var errEngineAnswered = errors.New("hogsend engine answered that it cannot serve")

// exchange does one round trip to the engine.
func (u *Upstream) exchange(req *fasthttp.Request, resp *fasthttp.Response) error {
	if err := u.client.DoTimeout(req, resp, u.timeout); err != nil {
		hostclient.DropDeadConns(u.client, err)
		return err
	}
	switch resp.StatusCode() {
	case fasthttp.StatusBadGateway, fasthttp.StatusServiceUnavailable, fasthttp.StatusGatewayTimeout:
		return errEngineAnswered
	}
	return nil
}

// engineUnavailable answers 503 with Retry-After, in the data API's shape.
func (s *Server) engineUnavailable(ctx *fasthttp.RequestCtx, retryAfter int, msg string) {
	s.metrics.upstream("unavailable")
	setCORS(ctx)
	ctx.Response.Header.Set("Retry-After", strconv.Itoa(max(1, retryAfter)))
	writeError(ctx, fasthttp.StatusServiceUnavailable, msg)
}

// outgoing builds the engine's request from the client's: method, path
// (under the base URL's path), query, body and end-to-end headers, with the
// X-Forwarded headers set.
func (u *Upstream) outgoing(ctx *fasthttp.RequestCtx, req *fasthttp.Request, fwd forwarded) {
	ctx.Request.Header.CopyTo(&req.Header)
	stripHopByHop(&req.Header)
	req.Header.DisableNormalizing()
	// The header's request target as the client sent it: Request.RequestURI
	// rebuilds it from the parsed URI once routing parsed it, decoding an
	// encoded slash (%2F) into a path separator.
	req.SetRequestURIBytes(append([]byte(u.prefix), ctx.Request.Header.RequestURI()...))
	req.URI().SetScheme(u.scheme)
	req.URI().SetHost(u.host)
	req.Header.SetHost(u.host)
	req.Header.Set("X-Forwarded-For", fwd.forIP)
	req.Header.Set("X-Forwarded-Proto", fwd.proto)
	req.Header.Set("X-Forwarded-Host", fwd.host)
	req.SetBodyRaw(ctx.Request.Body())
}

// relayAnswer copies the engine's status, end-to-end headers and body to
// the client.
func relayAnswer(ctx *fasthttp.RequestCtx, resp *fasthttp.Response) {
	resp.Header.CopyTo(&ctx.Response.Header)
	stripHopByHop(&ctx.Response.Header)
	ctx.Response.Header.DisableNormalizing()
	ctx.SetStatusCode(resp.StatusCode())
	ctx.Response.SetBody(resp.Body())
}

// hopHeaders is the header set stripHopByHop works on: a request's or a
// response's.
type hopHeaders interface {
	Peek(key string) []byte
	Del(key string)
}

// stripHopByHop removes the hop-by-hop headers and those Connection names.
func stripHopByHop(h hopHeaders) {
	for _, name := range bytes.Split(h.Peek("Connection"), []byte(",")) {
		if name = bytes.TrimSpace(name); len(name) > 0 {
			h.Del(string(name))
		}
	}
	for _, name := range hopByHop {
		h.Del(name)
	}
}
