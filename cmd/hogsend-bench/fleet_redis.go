package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// redisNode is one Redis node's command calls and network bytes since its
// last stats reset, and whether it serves slots as a master.
type redisNode struct {
	addr           string
	master         bool
	calls, in, out int64
}

// readRedisNodes reads every node of the fleet's Redis, resetting its
// counters after the read when reset is set: a cluster spreads the work
// over its masters, so each is read on its own.
func readRedisNodes(nodes []*testenv.Process, reset bool) ([]redisNode, error) {
	out := make([]redisNode, 0, len(nodes))
	for _, p := range nodes {
		n, err := readRedisNode(p.Addr, reset)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func readRedisNode(addr string, reset bool) (redisNode, error) {
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx := context.Background()
	if reset {
		if err := c.ConfigResetStat(ctx).Err(); err != nil {
			return redisNode{}, fmt.Errorf("redis %s config resetstat: %w", addr, err)
		}
	}
	info, err := c.Info(ctx, "commandstats", "stats", "replication").Result()
	if err != nil {
		return redisNode{}, fmt.Errorf("redis %s info: %w", addr, err)
	}
	n := redisNode{addr: addr}
	for _, st := range testenv.ParseRedisCommandStats(info) {
		n.calls += st.Calls
	}
	for _, line := range strings.Split(info, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		i, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "total_net_input_bytes":
			n.in = i
		case "total_net_output_bytes":
			n.out = i
		case "role":
			n.master = v == "master"
		}
	}
	return n, nil
}

// redisNodesSince is each master's counters at end less those at start
// (nodes listed in the same order); replicas are left out, their work is
// the replication of what a master was sent.
func redisNodesSince(start, end []redisNode) []redisNode {
	var out []redisNode
	for i, e := range end {
		if !e.master {
			continue
		}
		s := start[i]
		out = append(out, redisNode{addr: e.addr, master: true, calls: e.calls - s.calls, in: e.in - s.in, out: e.out - s.out})
	}
	return out
}
