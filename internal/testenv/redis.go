package testenv

import (
	"fmt"
	"strconv"
	"time"
)

// Redis starts a redis-server with AOF on (appendfsync everysec), as production
// runs it, in a fresh temporary directory.
func Redis(tb TB) *Process {
	tb.Helper()
	bin := requireBinary(tb, "redis-server", "/usr/bin/redis-server")
	port := FreePort(tb)
	p := &Process{
		Name: "redis", Port: port, Addr: fmt.Sprintf("127.0.0.1:%d", port),
		Dir: tb.TempDir(), tb: tb, bin: bin,
	}
	p.args = []string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--dir", p.Dir, "--appendonly", "yes", "--appendfsync", "everysec",
		"--save", "", "--protected-mode", "no", "--daemonize", "no",
	}
	tb.Cleanup(p.cleanup)
	if err := p.start(); err != nil {
		tb.Fatal(err)
	}
	if err := p.waitPort(15 * time.Second); err != nil {
		tb.Fatal(err)
	}
	return p
}

// URL is the redis:// URL of the server.
func (p *Process) RedisURL() string { return "redis://" + p.Addr + "/0" }
