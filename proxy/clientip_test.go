package proxy

import (
	"net"
	"strings"
	"testing"
)

// TestRightmostUntrusted: the client is the rightmost X-Forwarded-For hop
// that is not a trusted proxy; several headers are one list in order.
func TestRightmostUntrusted(t *testing.T) {
	var trusted []*net.IPNet
	for _, cidr := range []string{"10.0.0.0/8", "2001:db8::/32"} {
		_, n, _ := net.ParseCIDR(cidr)
		trusted = append(trusted, n)
	}
	f := func(peer, xff, want string) {
		t.Helper()
		var headers [][]byte
		if xff != "" {
			for _, h := range strings.Split(xff, "|") {
				headers = append(headers, []byte(h))
			}
		}
		if got := rightmostUntrusted(net.ParseIP(peer), headers, trusted).String(); got != want {
			t.Fatalf("peer %s, X-Forwarded-For %q: %s, want %s", peer, xff, got, want)
		}
	}
	f("10.0.0.1", "", "10.0.0.1")
	f("10.0.0.1", "203.0.113.7", "203.0.113.7")
	// A client-set leftmost entry is not believed.
	f("10.0.0.1", "1.1.1.1, 203.0.113.7", "203.0.113.7")
	f("10.0.0.1", "1.1.1.1, 203.0.113.7, 10.0.0.2", "203.0.113.7")
	f("10.0.0.1", "1.1.1.1,203.0.113.7,10.0.0.2,10.0.0.3", "203.0.113.7")
	// Several headers are one list, the later header to the right.
	f("10.0.0.1", "1.1.1.1, 203.0.113.7|10.0.0.2", "203.0.113.7")
	f("10.0.0.1", "1.1.1.1|203.0.113.7", "203.0.113.7")
	f("10.0.0.1", "203.0.113.7|", "203.0.113.7")
	// Every hop trusted: the leftmost one.
	f("10.0.0.1", "10.0.0.9, 10.0.0.2", "10.0.0.9")
	// A hop that is not an address stops at the trusted hop that added it.
	f("10.0.0.1", "1.1.1.1, garbage, 10.0.0.2", "10.0.0.2")
	f("10.0.0.1", "garbage", "10.0.0.1")
	f("10.0.0.1", "1.1.1.1, , 10.0.0.2", "10.0.0.2")
	// Ports and IPv6.
	f("10.0.0.1", "198.51.100.4:5123", "198.51.100.4")
	f("10.0.0.1", "[2001:db9::1]:443, 2001:db8::5", "2001:db9::1")
	f("2001:db8::1", "2001:db9::1", "2001:db9::1")
}

// TestClientIPOverHTTP: X-Forwarded-For is believed only from a trusted
// peer, and then its rightmost untrusted hop is the client.
func TestClientIPOverHTTP(t *testing.T) {
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	f := func(trusted []*net.IPNet, xff []string, want string) {
		t.Helper()
		journal := &memJournal{}
		ts := newTestServer(t, Options{TrustedProxies: trusted}, journal, nil)
		headers := []string{"Content-Type: application/json"}
		for _, h := range xff {
			headers = append(headers, "X-Forwarded-For: "+h)
		}
		if r := ts.do("POST", "/batch/", captureBody, headers...); r.status != 200 {
			t.Fatalf("capture: %d %s", r.status, r.body)
		}
		// The journal's encoding stores the address as a length-prefixed string.
		entry := string(journal.entries[0])
		if journal.count() != 1 || !strings.Contains(entry, string(rune(len(want)))+want) || strings.Contains(entry, "1.1.1.1") ||
			(want == "127.0.0.1" && strings.Contains(entry, "203.0.113.7")) {
			t.Fatalf("X-Forwarded-For %q: journal %q does not hold %s alone", xff, entry, want)
		}
	}
	f(nil, []string{"203.0.113.7"}, "127.0.0.1")
	f([]*net.IPNet{loopback}, []string{"1.1.1.1, 203.0.113.7"}, "203.0.113.7")
	f([]*net.IPNet{loopback}, []string{"1.1.1.1", "203.0.113.7, 127.0.0.5"}, "203.0.113.7")
}
