package testenv

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// lowestPort is the bottom of the range FreePort draws from.
const lowestPort = 10000

// FreePort returns a free TCP port on 127.0.0.1, drawn at random below the
// kernel's ephemeral range. A port the kernel hands out for bind(:0) lies
// inside that range, where any process's outgoing connection can take it
// between this call and the server's own bind (a cluster test met "Address
// already in use" so).
func FreePort(tb TB) int {
	tb.Helper()
	top := ephemeralStart()
	for range 200 {
		port := lowestPort + rand.IntN(top-lowestPort)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			l.Close()
			return port
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("find free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ephemeralStart is the first port of Linux's ephemeral range (32768 when
// it cannot be read).
func ephemeralStart() int {
	raw, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	fields := strings.Fields(string(raw))
	if len(fields) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n <= lowestPort+1000 {
		return 32768
	}
	return n
}
