package main

import (
	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// chShard is what one ClickHouse shard's servers did over a measured run:
// inserts received (the Distributed table's own and those it forwarded),
// rows inserted, parts written by inserts and parts fetched by replicas.
type chShard struct {
	inserts, rows, parts, fetches int64
}

// chShardStats reads system.events of every server of every shard.
type chShardStats struct {
	// servers[s][r] reads replica r of shard s.
	servers [][]*chStats
}

func newCHShardStats(shards [][]*testenv.Process) (*chShardStats, error) {
	s := &chShardStats{}
	for _, shard := range shards {
		var servers []*chStats
		for _, p := range shard {
			st, err := newCHStats(p.ClickHouseURL("hogsend"))
			if err != nil {
				return nil, err
			}
			servers = append(servers, st)
		}
		s.servers = append(s.servers, servers)
	}
	return s, nil
}

// since sums each shard's servers' counters since newCHShardStats.
func (s *chShardStats) since() ([]chShard, error) {
	out := make([]chShard, len(s.servers))
	for i, servers := range s.servers {
		for _, st := range servers {
			end, err := st.read()
			if err != nil {
				return nil, err
			}
			d := func(k string) int64 { return end[k] - st.start[k] }
			out[i].inserts += d("InsertQuery")
			out[i].rows += d("InsertedRows")
			out[i].parts += d("MergeTreeDataWriterBlocks")
			out[i].fetches += d("ReplicatedPartFetches")
		}
	}
	return out, nil
}
