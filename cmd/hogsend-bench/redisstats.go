package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// redisStats reads Redis's per-command counters over the measured phase, so
// that a change to the identity store shows up as calls and server time per
// event rather than as a guess from the process's CPU.
type redisStats struct{ c redis.UniversalClient }

func newRedisStats(url string) (*redisStats, error) {
	u, err := identity.ParseRedisURL(url)
	if err != nil {
		return nil, err
	}
	s := &redisStats{c: u.NewClient()}
	return s, s.c.ConfigResetStat(context.Background()).Err()
}

// report lists each command's calls per event and server time per call.
func (s *redisStats) report(events int64) string {
	defer s.c.Close()
	info, err := s.c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		return fmt.Sprintf("  redis commands:   %v\n", err)
	}
	stats := testenv.ParseRedisCommandStats(info)
	perEvent := func(st testenv.RedisCommandStat) float64 { return float64(st.Usec) / float64(events) }
	sort.Slice(stats, func(i, j int) bool { return perEvent(stats[i]) > perEvent(stats[j]) })
	var parts []string
	for _, st := range stats {
		if st.Calls == 0 || float64(st.Calls)/float64(events) < 0.001 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.3f/event × %.2f µs", strings.ToUpper(st.Name), float64(st.Calls)/float64(events), st.UsecPerCall))
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
