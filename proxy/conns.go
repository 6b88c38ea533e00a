package proxy

import (
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// tooManyConns is written to a connection refused for its address's limit
// before it is closed: a complete answer, so a client sees why.
var tooManyConns = connAnswer429(1, `{"error":"too many connections from your address; retry later"}`)

// connAnswer429 is a whole 429 answer written to a connection refused at
// accept, before any request is read from it.
func connAnswer429(retryAfter int, body string) []byte {
	return []byte("HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Type: application/json\r\n" +
		"Retry-After: " + strconv.Itoa(retryAfter) + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

// A connection whose request body was refused unread is drained this long,
// or this far, before it is closed.
const (
	lingerTime  = time.Second
	lingerBytes = 1 << 20
)

// edgeListener hands out edgeConns and, when max > 0, refuses a connection
// whose peer address already holds max open ones; trusted proxies carry many
// clients and are exempt.
type edgeListener struct {
	net.Listener
	max     int
	trusted []*net.IPNet
	refused func(reason string)
	// penalized reports a peer whose network is refused for its refusals.
	penalized func(netip.Addr) bool
	tarpitted atomic.Int64 // penalized connections waiting for their answer

	mu   sync.Mutex
	open map[netip.Addr]int
}

func newEdgeListener(ln net.Listener, max int, trusted []*net.IPNet, refused func(string), penalized func(netip.Addr) bool) *edgeListener {
	return &edgeListener{Listener: ln, max: max, trusted: trusted, refused: refused, penalized: penalized, open: make(map[netip.Addr]int)}
}

// Accept returns the next connection within its address's limit, answering
// and closing those over it.
func (l *edgeListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr, ok := peerAddr(c)
		if !ok || trustedIP(l.trusted, addr.AsSlice()) {
			return &edgeConn{Conn: c}, nil
		}
		if l.penalized != nil && l.penalized(addr) {
			l.refused("too_many_refusals")
			l.tarpit(c)
			continue
		}
		if l.max <= 0 {
			return &edgeConn{Conn: c}, nil
		}
		if l.take(addr) {
			return &edgeConn{Conn: c, addr: addr, ln: l}, nil
		}
		l.refused("conns_per_ip")
		refuseConn(c, tooManyConns)
	}
}

func (l *edgeListener) take(addr netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[addr] >= l.max {
		return false
	}
	l.open[addr]++
	return true
}

func (l *edgeListener) give(addr netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[addr]--; l.open[addr] <= 0 {
		delete(l.open, addr)
	}
}

// A penalized peer's connection is answered after tarpitDelay, so that a
// client that waits for its answers (most flood loops do) slows to one
// attempt a second per connection instead of costing an accept, a write
// and a close as fast as it can loop; at most maxTarpitted wait at once
// (a goroutine and a socket each), the rest are answered at once.
const (
	tarpitDelay  = time.Second
	maxTarpitted = 1024
)

// tarpit answers c with tooManyRefusals after tarpitDelay, or at once when
// maxTarpitted connections already wait.
func (l *edgeListener) tarpit(c net.Conn) {
	if l.tarpitted.Add(1) > maxTarpitted {
		l.tarpitted.Add(-1)
		refuseConn(c, tooManyRefusals)
		return
	}
	time.AfterFunc(tarpitDelay, func() {
		defer l.tarpitted.Add(-1)
		refuseConn(c, tooManyRefusals)
	})
}

// tarpitAnswer holds a throttled request's answer for tarpitDelay, unless
// maxTarpitted already wait: a key-guessing flood on keep-alive connections
// then costs one request a second per connection, not as many as the
// client can loop.
func (s *Server) tarpitAnswer() {
	if s.tarpitted.Add(1) <= maxTarpitted {
		time.Sleep(tarpitDelay)
	}
	s.tarpitted.Add(-1)
}

// refuseConn answers without reading: a fresh socket's send buffer takes the
// few bytes at once, and the deadline keeps the accept loop from waiting on
// a peer that does not read.
func refuseConn(c net.Conn, answer []byte) {
	_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	_, _ = c.Write(answer)
	_ = c.Close()
}

// peerAddr is the connection's remote IP, unmapped so that IPv4 peers on a
// dual-stack socket count as themselves.
func peerAddr(c net.Conn) (netip.Addr, bool) {
	tcp, ok := c.RemoteAddr().(*net.TCPAddr)
	if !ok {
		return netip.Addr{}, false
	}
	addr, ok := netip.AddrFromSlice(tcp.IP)
	return addr.Unmap(), ok
}

// edgeConn gives its address's slot back once, when closed, and lingers on
// close when asked to.
type edgeConn struct {
	net.Conn
	addr   netip.Addr
	ln     *edgeListener // nil when the connection is not counted
	linger atomic.Bool
	once   sync.Once
}

// lingerOnClose makes Close drain what the client still sends before closing:
// closing a socket with unread bytes resets it, and a client still writing
// the body it was refused for would lose the answer.
func (c *edgeConn) lingerOnClose() { c.linger.Store(true) }

func (c *edgeConn) Close() error {
	c.once.Do(func() {
		if c.linger.Load() {
			c.drain()
		}
		if c.ln != nil {
			c.ln.give(c.addr)
		}
	})
	return c.Conn.Close()
}

// drain sends FIN after the answer, then reads and drops the rest of the
// client's bytes until it closes too, lingerTime passes or lingerBytes came.
func (c *edgeConn) drain() {
	if hc, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		_ = hc.CloseWrite()
	}
	_ = c.Conn.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.CopyN(io.Discard, c.Conn, lingerBytes)
}

// SetKeepAlive and SetKeepAlivePeriod pass fasthttp's TCP keep-alive
// settings through to the wrapped connection.
func (c *edgeConn) SetKeepAlive(on bool) error {
	if k, ok := c.Conn.(interface{ SetKeepAlive(bool) error }); ok {
		return k.SetKeepAlive(on)
	}
	return nil
}

func (c *edgeConn) SetKeepAlivePeriod(d time.Duration) error {
	if k, ok := c.Conn.(interface{ SetKeepAlivePeriod(time.Duration) error }); ok {
		return k.SetKeepAlivePeriod(d)
	}
	return nil
}
