package proxy

import (
	"bytes"
	"net"

	"github.com/valyala/fasthttp"
)

// clientIP is the address stored with an event and sent to ad platforms: the
// TCP peer, or, when the peer is a trusted proxy, the rightmost
// X-Forwarded-For hop that is not one (docs/operations.md § Client IP).
func (s *Server) clientIP(ctx *fasthttp.RequestCtx) string {
	peer := ctx.RemoteIP()
	if !trustedIP(s.trustedProxies, peer) {
		return peer.String()
	}
	return rightmostUntrusted(peer, ctx.Request.Header.PeekAll("X-Forwarded-For"), s.trustedProxies).String()
}

// rightmostUntrusted walks the X-Forwarded-For hops from the right, every
// header's list in order as one list, skipping trusted proxies. The first
// hop that is not trusted is the client; a hop that is not an address stops
// the walk at the trusted hop to its right, which added it. When every hop
// is trusted, the leftmost is the client.
func rightmostUntrusted(peer net.IP, headers [][]byte, trusted []*net.IPNet) net.IP {
	client := peer
	for h := len(headers) - 1; h >= 0; h-- {
		list := headers[h]
		for len(list) > 0 {
			hop := list
			if i := bytes.LastIndexByte(list, ','); i >= 0 {
				hop, list = list[i+1:], list[:i]
			} else {
				list = nil
			}
			ip := parseHop(hop)
			if ip == nil {
				return client
			}
			client = ip
			if !trustedIP(trusted, ip) {
				return ip
			}
		}
	}
	return client
}

// parseHop reads one X-Forwarded-For entry: an address, optionally with a
// port ("1.2.3.4:80", "[2001:db8::1]:80").
func parseHop(hop []byte) net.IP {
	h := string(bytes.TrimSpace(hop))
	if ip := net.ParseIP(h); ip != nil {
		return ip
	}
	if host, _, err := net.SplitHostPort(h); err == nil {
		return net.ParseIP(host)
	}
	return nil
}

func trustedIP(trusted []*net.IPNet, ip net.IP) bool {
	for _, n := range trusted {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}
