package testenv

import "testing"

// RedisClusterOf with no replicas is three masters serving every slot
// between them.
func TestRedisClusterOfThreeMastersAlone(t *testing.T) {
	c := RedisClusterOf(t, 0)
	if len(c.Nodes) != 3 {
		t.Fatalf("%d nodes, want 3", len(c.Nodes))
	}
	text, err := redisCLI(c.cli, c.Nodes[0].Addr, "", "cluster", "nodes")
	if err != nil {
		t.Fatal(err)
	}
	nodes := parseClusterNodes(text)
	slots := 0
	for _, n := range nodes {
		if !n.master {
			t.Errorf("%s is not a master:\n%s", n.addr, text)
		}
		for _, r := range n.slots {
			slots += r[1] - r[0] + 1
		}
	}
	if len(nodes) != 3 || slots != 16384 {
		t.Fatalf("%d nodes serving %d slots, want 3 serving 16384:\n%s", len(nodes), slots, text)
	}
}
