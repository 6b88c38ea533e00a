package testenv

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// zookeeperJars is where Debian's zookeeperd package puts the server: its
// jar (whose manifest names the libraries it needs) and a log4j configuration.
var zookeeperJars = []string{"/etc/zookeeper/conf", "/usr/share/java/zookeeper.jar"}

// ZooKeeper starts a standalone ZooKeeper on a free loopback port with its
// data under a fresh temporary directory, for replicated ClickHouse tables.
func ZooKeeper(tb TB) *Process {
	tb.Helper()
	java := requireBinary(tb, "java", "/usr/bin/java")
	if _, err := os.Stat(zookeeperJars[1]); err != nil {
		Unavailable(tb, "%s not found (Debian package zookeeperd)", zookeeperJars[1])
	}
	p := newProcess(tb, "zookeeper", java)
	port, dir := p.Port, p.Dir
	conf := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(zookeeperConfig, dir, port)), 0o644); err != nil {
		tb.Fatalf("write zookeeper config: %v", err)
	}
	// A small heap: the tests keep a few hundred znodes.
	p.args = []string{"-Xmx128m", "-XX:+UseSerialGC", "-cp", zookeeperJars[0] + ":" + zookeeperJars[1],
		"org.apache.zookeeper.server.quorum.QuorumPeerMain", conf}
	tb.Cleanup(p.cleanup)
	p.Start(60 * time.Second)
	if err := waitServing(p.Addr, 60*time.Second); err != nil {
		tb.Fatalf("%v:\n%s", err, p.tail())
	}
	return p
}

// waitServing waits until ZooKeeper serves sessions, which comes after it
// listens: a ClickHouse server that connects before gets its handshake
// refused, and 18.16's distributed DDL worker does not recover from that.
func waitServing(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if strings.Contains(fourLetterWord(addr, "srvr"), "Mode: ") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("zookeeper on %s not serving within %s", addr, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fourLetterWord sends a ZooKeeper four-letter command and returns the answer.
func fourLetterWord(addr, cmd string) string {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return ""
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(cmd)); err != nil {
		return ""
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

// The data directory and client port. A short tick makes session expiry
// (2 ticks at least) quick after a ClickHouse server is killed.
const zookeeperConfig = `tickTime=500
dataDir=%s/data
clientPort=%d
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=srvr
`
