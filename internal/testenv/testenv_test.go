package testenv

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestRedisStartsAndRestarts(t *testing.T) {
	r := Redis(t)
	ping := func() string {
		c, err := net.DialTimeout("tcp", r.Addr, time.Second)
		if err != nil {
			return err.Error()
		}
		defer c.Close()
		c.Write([]byte("PING\r\n"))
		buf := make([]byte, 16)
		n, _ := c.Read(buf)
		return string(buf[:n])
	}
	if got := ping(); !strings.HasPrefix(got, "+PONG") {
		t.Fatalf("ping = %q", got)
	}
	r.Kill()
	if got := ping(); strings.HasPrefix(got, "+PONG") {
		t.Fatalf("redis still answering after kill")
	}
	r.Restart(10 * time.Second)
	if got := ping(); !strings.HasPrefix(got, "+PONG") {
		t.Fatalf("ping after restart = %q", got)
	}
}

func TestClickHouseStarts(t *testing.T) {
	ch := ClickHouse(t)
	if ch.PID() == 0 {
		t.Fatal("no pid")
	}
	c, err := net.DialTimeout("tcp", ch.Addr, time.Second)
	if err != nil {
		t.Fatalf("dial clickhouse: %v", err)
	}
	c.Close()
}
