package proxy

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// forwarded is what the X-Forwarded headers tell the engine.
type forwarded struct {
	forIP string // the hops, the TCP peer last
	proto string
	host  string
}

// forwardedFor is the request's X-Forwarded values as the engine should see
// them. What a trusted proxy in front of this one sent is kept, the peer
// appended; from any other peer the client's own values are not believed.
func (s *Server) forwardedFor(ctx *fasthttp.RequestCtx) forwarded {
	peer := ctx.RemoteIP()
	f := forwarded{forIP: peer.String(), proto: "http", host: string(ctx.Host())}
	if ctx.IsTLS() {
		f.proto = "https"
	}
	if !trustedIP(s.trustedProxies, peer) {
		return f
	}
	if prior := ctx.Request.Header.PeekAll("X-Forwarded-For"); len(prior) > 0 {
		f.forIP = string(bytes.Join(prior, []byte(", "))) + ", " + f.forIP
	}
	if p := ctx.Request.Header.Peek("X-Forwarded-Proto"); len(p) > 0 {
		f.proto = string(p)
	}
	if h := ctx.Request.Header.Peek("X-Forwarded-Host"); len(h) > 0 {
		f.host = string(h)
	}
	return f
}
