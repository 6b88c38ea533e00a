package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisStats reads Redis's per-command counters over the measured phase, so
// that a change to the identity store shows up as calls and server time per
// event rather than as a guess from the process's CPU.
type redisStats struct{ c *redis.Client }

func newRedisStats(url string) (*redisStats, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	s := &redisStats{c: redis.NewClient(o)}
	return s, s.c.ConfigResetStat(context.Background()).Err()
}

// report lists each command's calls per event and server time per call.
func (s *redisStats) report(events int64) string {
	defer s.c.Close()
	info, err := s.c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		return fmt.Sprintf("  redis commands:   %v\n", err)
	}
	type stat struct {
		name        string
		calls       int64
		usecPerCall float64
		perEvent    float64
	}
	var stats []stat
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "cmdstat_")), ":")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		st := stat{name: name}
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "calls":
				st.calls, _ = strconv.ParseInt(v, 10, 64)
			case "usec_per_call":
				st.usecPerCall, _ = strconv.ParseFloat(v, 64)
			}
		}
		st.perEvent = float64(st.calls) * st.usecPerCall / float64(events)
		stats = append(stats, st)
	}
	sort.Slice(stats, func(i, j int) bool { return stats[i].perEvent > stats[j].perEvent })
	var parts []string
	for _, st := range stats {
		if st.calls == 0 || float64(st.calls)/float64(events) < 0.001 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.3f/event × %.2f µs", strings.ToUpper(st.name), float64(st.calls)/float64(events), st.usecPerCall))
	}
	forks := "?"
	if st, err := s.c.Info(context.Background(), "stats").Result(); err == nil {
		for _, line := range strings.Split(st, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_forks:"); ok {
				forks = v // AOF rewrites: the child's CPU is not in redis's own figure
			}
		}
	}
	return fmt.Sprintf("  redis commands:   %s (server time in the command itself); %s forks\n", strings.Join(parts, ", "), forks)
}
