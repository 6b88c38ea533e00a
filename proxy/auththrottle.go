package proxy

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// failureThrottle counts failures (failed authentications, refused
// requests) per client network (an IPv4 address, an IPv6 /64, which one
// host usually owns whole) in fixed windows; past max failures in a window
// the network is refused until the window ends.
type failureThrottle struct {
	max    int
	window time.Duration
	// blockedUntil is when the last block ends (Unix ns): until a network
	// is blocked, blocked answers without the lock, on every request.
	blockedUntil atomic.Int64

	mu   sync.Mutex
	nets *lru[netip.Addr, failureWindow]
}

type failureWindow struct {
	n     int
	start int64 // Unix ns
}

func newFailureThrottle(max int, window time.Duration, networks int) *failureThrottle {
	return &failureThrottle{max: max, window: window, nets: newLRU[netip.Addr, failureWindow](networks)}
}

// throttleKey is the network an address is counted under; an unparseable
// address counts under the zero Addr.
func throttleKey(ip string) netip.Addr {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Addr{}
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// blocked returns how long ip is still refused; 0 when it is not.
func (t *failureThrottle) blocked(ip string, now time.Time) time.Duration {
	if t.max <= 0 {
		return 0
	}
	if !t.anyBlocked(now) {
		return 0
	}
	ns, k := now.UnixNano(), throttleKey(ip)
	t.mu.Lock()
	defer t.mu.Unlock()
	w, ok := t.nets.get(k, ns)
	if !ok || w.n < t.max {
		return 0
	}
	return time.Duration(w.start + int64(t.window) - ns)
}

// anyBlocked reports whether any network may still be blocked at now.
func (t *failureThrottle) anyBlocked(now time.Time) bool {
	return now.UnixNano() < t.blockedUntil.Load()
}

// fail counts one failure from ip.
func (t *failureThrottle) fail(ip string, now time.Time) { t.failN(ip, now, 1) }

// failN counts n failures from ip at once (a costly one weighs more).
func (t *failureThrottle) failN(ip string, now time.Time, n int) {
	if t.max <= 0 || n <= 0 {
		return
	}
	k, ns := throttleKey(ip), now.UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	w, ok := t.nets.get(k, ns)
	if !ok {
		t.nets.put(k, failureWindow{start: ns}, ns+int64(t.window))
		w, _ = t.nets.get(k, ns)
	}
	before := w.n
	w.n += n
	if before < t.max && w.n >= t.max {
		t.blockedUntil.Store(max(t.blockedUntil.Load(), w.start+int64(t.window)))
	}
}
