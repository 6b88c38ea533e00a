package testenv

import (
	"errors"
	"net"
	"reflect"
	"strings"
	"syscall"
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
	// The port opens before Redis has loaded its AOF; until then it
	// answers -LOADING.
	got := ping()
	for deadline := time.Now().Add(10 * time.Second); strings.HasPrefix(got, "-LOADING") && time.Now().Before(deadline); got = ping() {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.HasPrefix(got, "+PONG") {
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

// A server whose port another process took before it bound it is told
// apart (errPortTaken), so that a cluster starts again on fresh ports.
func TestTakenPortIsToldApart(t *testing.T) {
	p := NewClickHouse(t)
	// Bound without listening (and without SO_REUSEADDR): the server's
	// bind fails, and a dial to the port is refused rather than answered.
	taker, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(taker)
	if err := syscall.Bind(taker, &syscall.SockaddrInet4{Port: p.Port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	if err := listening(p); !errors.Is(err, errPortTaken) {
		t.Fatalf("start on a taken port: %v, want errPortTaken", err)
	}
	syscall.Close(taker)
	p.Start(60 * time.Second)
	if err := listening(p); err != nil {
		t.Fatalf("started again on the freed port: %v", err)
	}
}

func TestParseRedisCommandStats(t *testing.T) {
	info := "# Commandstats\r\n" +
		"cmdstat_hsetnx:calls=2000033,usec=893380,usec_per_call=0.45,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_evalsha:calls=40,usec=2400,usec_per_call=60.00,rejected_calls=0,failed_calls=1\r\n" +
		"\r\n"
	got := ParseRedisCommandStats(info)
	want := []RedisCommandStat{
		{Name: "hsetnx", Calls: 2000033, Usec: 893380, UsecPerCall: 0.45},
		{Name: "evalsha", Calls: 40, Usec: 2400, UsecPerCall: 60},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}
