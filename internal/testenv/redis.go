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
	p := NewRedis(tb)
	p.Start(15 * time.Second)
	return p
}

// NewRedis configures a redis-server as Redis does, on a port where nothing
// listens until Start: a dependency that comes up late.
func NewRedis(tb TB) *Process {
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
	return p
}

// URL is the redis:// URL of the server.
func (p *Process) RedisURL() string { return "redis://" + p.Addr + "/0" }
