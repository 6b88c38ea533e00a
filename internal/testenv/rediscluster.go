package testenv

import (
	"strconv"
	"strings"
	"time"
)

// RedisClusterServers is a Redis Cluster of three masters, each with its
// replicas, on loopback, each node a redis-server in its own temporary directory.
type RedisClusterServers struct {
	Nodes []*Process
	tb    TB
	cli   string
}

// RedisCluster starts six nodes with cluster-enabled, joins them with
// `redis-cli --cluster create … --cluster-replicas 1` and waits until every
// node reports cluster_state:ok. A node timeout of one second makes a
// replica take over a killed master within a few seconds.
func RedisCluster(tb TB) *RedisClusterServers {
	tb.Helper()
	return RedisClusterOf(tb, 1)
}

// RedisClusterOf is RedisCluster with replicas replicas per master (0 for
// three masters alone, as a benchmark on a small machine runs it).
func RedisClusterOf(tb TB, replicas int) *RedisClusterServers {
	tb.Helper()
	cli := requireBinary(tb, "redis-cli", "/usr/bin/redis-cli")
	c := &RedisClusterServers{tb: tb, cli: cli}
	n := 3 * (1 + replicas)
	addrs := make([]string, 0, n)
	for i := range n {
		p := NewRedis(tb)
		p.Name = "redis-cluster-" + strconv.Itoa(i)
		// The bus port of its own: the default, port+10000, may be taken.
		p.args = append(p.args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-port", strconv.Itoa(FreePort(tb)),
			"--cluster-node-timeout", "1000", "--cluster-replica-validity-factor", "0")
		p.Start(15 * time.Second)
		c.Nodes = append(c.Nodes, p)
		addrs = append(addrs, p.Addr)
	}
	create := append([]string{"--cluster", "create"}, addrs...)
	create = append(create, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if _, err := redisCLI(cli, addrs[0], "", create...); err != nil {
		tb.Fatalf("create redis cluster: %v", err)
	}
	c.WaitHealthy(30 * time.Second)
	return c
}

// URL is the redis+cluster:// URL naming every node.
func (c *RedisClusterServers) URL() string {
	return "redis+cluster://" + addrList(c.Nodes)
}

// running is the nodes not killed.
func (c *RedisClusterServers) running() []*Process {
	var out []*Process
	for _, p := range c.Nodes {
		if p.cmd != nil {
			out = append(out, p)
		}
	}
	return out
}

// WaitHealthy waits until every running node reports cluster_state:ok and
// sees every slot served by a master that is not failed.
func (c *RedisClusterServers) WaitHealthy(timeout time.Duration) {
	c.tb.Helper()
	waitFor(c.tb, timeout, "redis cluster healthy", func() (bool, string) {
		for _, p := range c.running() {
			info, err := redisCLI(c.cli, p.Addr, "", "cluster", "info")
			if err != nil {
				return false, err.Error()
			}
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384") {
				return false, p.Addr + ": " + info
			}
		}
		return true, ""
	})
}

// MasterOf returns the node that serves key's slot as master.
func (c *RedisClusterServers) MasterOf(key string) *Process {
	c.tb.Helper()
	p := c.running()[0]
	slotText, err := redisCLI(c.cli, p.Addr, "", "cluster", "keyslot", key)
	if err != nil {
		c.tb.Fatal(err)
	}
	slot, err := strconv.Atoi(slotText)
	if err != nil {
		c.tb.Fatalf("cluster keyslot %q: %q", key, slotText)
	}
	nodes, err := redisCLI(c.cli, p.Addr, "", "cluster", "nodes")
	if err != nil {
		c.tb.Fatal(err)
	}
	for _, n := range parseClusterNodes(nodes) {
		if n.master && !n.failed && n.serves(slot) {
			for _, q := range c.Nodes {
				if q.Addr == n.addr {
					return q
				}
			}
		}
	}
	c.tb.Fatalf("no master serves slot %d:\n%s", slot, nodes)
	return nil
}

// KillMasterOf SIGKILLs the master of key's slot and returns it; the
// cluster then fails over to its replica (WaitFailover).
func (c *RedisClusterServers) KillMasterOf(key string) *Process {
	c.tb.Helper()
	p := c.MasterOf(key)
	p.Kill()
	return p
}

// WaitFailover waits until the running nodes have marked dead failed and
// the cluster is healthy again, a replica serving its slots.
func (c *RedisClusterServers) WaitFailover(dead *Process, timeout time.Duration) {
	c.tb.Helper()
	waitFor(c.tb, timeout, "redis cluster fails "+dead.Addr+" over", func() (bool, string) {
		nodes, err := redisCLI(c.cli, c.running()[0].Addr, "", "cluster", "nodes")
		if err != nil {
			return false, err.Error()
		}
		for _, n := range parseClusterNodes(nodes) {
			if n.addr == dead.Addr {
				return n.agreed, nodes
			}
		}
		return false, nodes
	})
	c.WaitHealthy(timeout)
}

// clusterNode is one line of CLUSTER NODES.
type clusterNode struct {
	addr   string
	master bool
	failed bool // fail? (this node's suspicion) or fail
	agreed bool // fail: a majority of masters agreed
	slots  [][2]int
}

func (n clusterNode) serves(slot int) bool {
	for _, r := range n.slots {
		if slot >= r[0] && slot <= r[1] {
			return true
		}
	}
	return false
}

// parseClusterNodes reads CLUSTER NODES: id ip:port@bus flags master ping
// pong epoch link slot-range…
func parseClusterNodes(text string) []clusterNode {
	var out []clusterNode
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		flags := "," + f[2] + ","
		n := clusterNode{addr: addr, master: strings.Contains(flags, ",master,"),
			failed: strings.Contains(flags, ",fail,") || strings.Contains(flags, ",fail?,"),
			agreed: strings.Contains(flags, ",fail,")}
		for _, r := range f[8:] {
			lo, hi, ok := strings.Cut(r, "-")
			if !ok {
				hi = lo
			}
			a, errA := strconv.Atoi(lo)
			b, errB := strconv.Atoi(hi)
			if errA == nil && errB == nil {
				n.slots = append(n.slots, [2]int{a, b})
			}
		}
		out = append(out, n)
	}
	return out
}
