package abuse

import (
	"context"
	"fmt"
	"net"
	"time"
)

// Target is the proxy under attack and what the attacks need to know of it.
type Target struct {
	Addr   string // host:port the proxy listens on (loopback)
	Token  string // the public PostHog project token the proxy accepts
	Key    string // a native ingest key, for the routes that need one
	Limits Limits
}

// Limits are the proxy's configured edge limits; the attacks size
// themselves past them.
type Limits struct {
	MaxBodyBytes    int
	MaxDecodedBytes int
	MaxConnsPerIP   int
	MaxProperties   int
	MaxEvents       int
	HeaderTimeout   time.Duration
	ReadTimeout     time.Duration
}

// source is the loopback address attack number i dials from: every attack
// has its own, apart from 127.0.0.1 (the legitimate client's), so per-IP
// limits count attackers apart from it and from each other.
func source(i int) net.IP { return net.IPv4(127, 0, 1+byte(i/200), 10+byte(i%200)) }

// dial opens a TCP connection to the target from src.
func (t Target) dial(ctx context.Context, src net.IP) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s from %s: %w", t.Addr, src, err)
	}
	return c, nil
}
