package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/hogsend/hogsend-proxy/sinks/clickhouse"
)

// chStats reads ClickHouse's event counters over the measured phase, so that
// its CPU per event can be split between inserts and background merges.
type chStats struct {
	url   string
	start map[string]int64
}

// chCounters are the system.events read; MergeTreeDataWriterBlocks is the
// parts inserts wrote, ReplicatedPartFetches those a replica copied.
var chCounters = []string{"InsertQuery", "InsertedRows", "MergedRows", "MergedUncompressedBytes", "MergesTimeMilliseconds",
	"MergeTreeDataWriterBlocks", "ReplicatedPartFetches"}

func newCHStats(url string) (*chStats, error) {
	s := &chStats{url: url}
	var err error
	s.start, err = s.read()
	return s, err
}

func (s *chStats) read() (map[string]int64, error) {
	ctx := context.Background()
	b, err := clickhouse.OpenServer(ctx, s.url)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	rows, err := b.Query(ctx, "SELECT event, value FROM system.events WHERE event IN ('"+strings.Join(chCounters, "','")+"')")
	if err != nil {
		return nil, fmt.Errorf("read system.events: %w", err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r[0]], _ = strconv.ParseInt(r[1], 10, 64)
	}
	return out, nil
}

// report gives inserts, and rows merged and merge time per event.
func (s *chStats) report(events int64) string {
	end, err := s.read()
	if err != nil {
		return fmt.Sprintf("  clickhouse:       %v\n", err)
	}
	d := func(k string) float64 { return float64(end[k] - s.start[k]) }
	return fmt.Sprintf("  clickhouse:       %.0f inserts, %.0f rows inserted; merges rewrote %.2f rows and %.0f bytes per event, %.2f µs of merge time per event\n",
		d("InsertQuery"), d("InsertedRows"), d("MergedRows")/float64(events), d("MergedUncompressedBytes")/float64(events),
		1000*d("MergesTimeMilliseconds")/float64(events))
}
