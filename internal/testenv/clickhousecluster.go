package testenv

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ClusterName is the name the test cluster has in its servers' remote_servers.
const ClusterName = "hogsend"

// ClickHouseCluster is clickhouse-server processes as shards × replicas on
// one ZooKeeper, each with the cluster definition, its {shard}/{replica}
// macros and distributed DDL configured.
type ClickHouseCluster struct {
	ZooKeeper *Process
	// Shards[s][r] is replica r of shard s.
	Shards [][]*Process
	// httpPorts are the servers' HTTP ports, by name, for the readiness check.
	httpPorts map[string]int
}

// Nodes is every server, shard by shard.
func (c *ClickHouseCluster) Nodes() []*Process {
	var out []*Process
	for _, shard := range c.Shards {
		out = append(out, shard...)
	}
	return out
}

// URL is the clickhouse:// URL naming every server, for database db.
func (c *ClickHouseCluster) URL(db string) string {
	var addrs []string
	for _, n := range c.Nodes() {
		addrs = append(addrs, n.Addr)
	}
	return "clickhouse://" + strings.Join(addrs, ",") + "/" + db
}

// clusterStarts is how many times a cluster is started on fresh ports when
// one of its ports was taken before its server bound it.
const clusterStarts = 3

// errPortTaken: a server exited at start-up because one of its ports was
// in use. Its ports were free when drawn (FreePort), but the cluster's
// dozen of them stay unbound for a second or two while the servers start,
// and another test process, or a draw of the same cluster, can take one.
var errPortTaken = errors.New("a port was taken before the server bound it")

// StartClickHouseCluster starts ZooKeeper and shards × replicas servers, and
// waits until every server is ready.
func StartClickHouseCluster(tb TB, shards, replicas int) *ClickHouseCluster {
	tb.Helper()
	bin := requireBinary(tb, "clickhouse-server", "/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server")
	zk := ZooKeeper(tb)
	for start := 1; ; start++ {
		c, err := launchClickHouseCluster(tb, bin, zk, shards, replicas)
		if err == nil {
			for _, p := range c.Nodes() {
				c.WaitReady(tb, p)
			}
			return c
		}
		if start == clusterStarts || !errors.Is(err, errPortTaken) {
			tb.Fatal(err)
		}
	}
}

// launchClickHouseCluster configures and starts the servers on fresh ports
// and waits until each listens; when one does not, it kills them all.
func launchClickHouseCluster(tb TB, bin string, zk *Process, shards, replicas int) (*ClickHouseCluster, error) {
	tb.Helper()
	c := &ClickHouseCluster{ZooKeeper: zk, httpPorts: map[string]int{}}
	for s := 0; s < shards; s++ {
		var shard []*Process
		for r := 0; r < replicas; r++ {
			shard = append(shard, newProcess(tb, fmt.Sprintf("clickhouse-s%dr%d", s+1, r+1), bin))
		}
		c.Shards = append(c.Shards, shard)
	}
	remote := c.remoteServers()
	for s, shard := range c.Shards {
		for r, p := range shard {
			c.configure(tb, p, remote, s, r)
		}
	}
	for _, p := range c.Nodes() {
		if err := p.start(); err != nil {
			tb.Fatal(err)
		}
	}
	for _, p := range c.Nodes() {
		if err := listening(p); err != nil {
			for _, n := range c.Nodes() {
				n.Kill()
			}
			return nil, err
		}
	}
	return c, nil
}

// listening waits until server p listens; the error wraps errPortTaken when
// p stopped because a port of its was in use.
func listening(p *Process) error {
	err := p.waitPort(90 * time.Second)
	if err == nil {
		return nil
	}
	errLog := errorLogTail(p)
	if strings.Contains(errLog, "Address already in use") {
		return fmt.Errorf("%w: %w\nerror log:\n%s", errPortTaken, err, errLog)
	}
	return fmt.Errorf("%w\nerror log:\n%s", err, errLog)
}

// WaitReady waits until server p listens and has its ZooKeeper session: a
// server that listens may still refuse replicated DDL until then.
func (c *ClickHouseCluster) WaitReady(tb TB, p *Process) {
	tb.Helper()
	if err := listening(p); err != nil {
		tb.Fatal(err)
	}
	query := url.QueryEscape("SELECT count() FROM system.zookeeper WHERE path = '/'")
	addr := fmt.Sprintf("http://127.0.0.1:%d/?query=%s", c.httpPorts[p.Name], query)
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(addr)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s has no ZooKeeper session after 90s (last: %v):\n%s", p.Name, err, errorLogTail(p))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Restart starts server p again after a Kill and waits until it is ready.
func (c *ClickHouseCluster) Restart(tb TB, p *Process) {
	tb.Helper()
	if err := p.start(); err != nil {
		tb.Fatal(err)
	}
	c.WaitReady(tb, p)
}

// remoteServers is the remote_servers section: internal_replication makes
// a Distributed insert write one replica per shard and leaves the copy to
// the replicated table (docs/clickhouse-cluster.md § 3).
func (c *ClickHouseCluster) remoteServers() string {
	var b strings.Builder
	fmt.Fprintf(&b, "    <remote_servers>\n        <%s>\n", ClusterName)
	for _, shard := range c.Shards {
		b.WriteString("            <shard>\n                <internal_replication>true</internal_replication>\n")
		for _, p := range shard {
			fmt.Fprintf(&b, "                <replica><host>127.0.0.1</host><port>%d</port></replica>\n", p.Port)
		}
		b.WriteString("            </shard>\n")
	}
	fmt.Fprintf(&b, "        </%s>\n    </remote_servers>\n", ClusterName)
	return b.String()
}

// configure writes server p's config.xml and users.xml: the single-server
// configuration with the cluster sections added and its caches shrunk, so
// that four servers fit a small machine.
func (c *ClickHouseCluster) configure(tb TB, p *Process, remote string, shard, replica int) {
	tb.Helper()
	httpPort, interPort := FreePort(tb), FreePort(tb)
	c.httpPorts[p.Name] = httpPort
	dir := p.Dir
	base := fmt.Sprintf(clickhouseConfig, dir, dir, httpPort, p.Port, dir, dir, dir)
	base = strings.Replace(base, "<mark_cache_size>268435456</mark_cache_size>", "<mark_cache_size>67108864</mark_cache_size>", 1)
	base = strings.Replace(base, "<uncompressed_cache_size>268435456</uncompressed_cache_size>", "<uncompressed_cache_size>16777216</uncompressed_cache_size>", 1)
	extra := remote + fmt.Sprintf(clusterConfig, interPort, c.ZooKeeper.Port, shard+1, shard+1, replica+1)
	conf := strings.Replace(base, "</yandex>", extra+"</yandex>", 1)
	users := strings.Replace(clickhouseUsers, "<load_balancing>random</load_balancing>", clusterProfile, 1)
	if err := os.WriteFile(filepath.Join(dir, "config.xml"), []byte(conf), 0o644); err != nil {
		tb.Fatalf("write clickhouse config: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(users), 0o644); err != nil {
		tb.Fatalf("write clickhouse users: %v", err)
	}
	p.args = []string{"--config-file=" + filepath.Join(dir, "config.xml")}
	tb.Cleanup(p.cleanup)
}

// A memory cap (servers from 20.x read it); a server SIGKILLed mid-insert
// or mid-merge starts with the parts ZooKeeper never recorded detached,
// rather than refusing to start (docs/clickhouse-cluster.md § 1); the
// interserver port (replicas fetch parts there), the ZooKeeper port, and the macros shard, replica
// (shard and replica numbers: the replica name is unique in the whole
// cluster, as a host name would be).
const clusterConfig = `    <max_server_memory_usage>1073741824</max_server_memory_usage>
    <merge_tree>
        <replicated_max_ratio_of_wrong_parts>1</replicated_max_ratio_of_wrong_parts>
    </merge_tree>
    <interserver_http_port>%d</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <zookeeper>
        <node><host>127.0.0.1</host><port>%d</port></node>
        <session_timeout_ms>4000</session_timeout_ms>
    </zookeeper>
    <macros>
        <shard>%d</shard>
        <replica>s%dr%d</replica>
    </macros>
    <distributed_ddl>
        <path>/clickhouse/task_queue/ddl</path>
    </distributed_ddl>
`

// clusterProfile replaces the default profile's load balancing: reads and
// inserts prefer a shard's first replica (so a read follows the write), and
// the background pools shrink for a small machine.
const clusterProfile = `<load_balancing>in_order</load_balancing>
            <background_pool_size>2</background_pool_size>
            <background_schedule_pool_size>4</background_schedule_pool_size>
            <max_threads>2</max_threads>`

// errorLogTail is the end of server p's error log, where ClickHouse writes
// why it stopped.
func errorLogTail(p *Process) string {
	b, _ := os.ReadFile(filepath.Join(p.Dir, "clickhouse-server.err.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
