package testenv

import (
	"strconv"
	"strings"
)

// RedisCommandStat is one command's line of Redis's INFO commandstats: its
// calls and the server time spent in them.
type RedisCommandStat struct {
	Name        string // lower case, as Redis names it ("hsetnx")
	Calls       int64
	Usec        int64
	UsecPerCall float64
}

// ParseRedisCommandStats reads the text of INFO commandstats.
func ParseRedisCommandStats(info string) []RedisCommandStat {
	var stats []RedisCommandStat
	for _, line := range strings.Split(info, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_")
		if !ok {
			continue
		}
		name, fields, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		st := RedisCommandStat{Name: name}
		for _, kv := range strings.Split(fields, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "calls":
				st.Calls, _ = strconv.ParseInt(v, 10, 64)
			case "usec":
				st.Usec, _ = strconv.ParseInt(v, 10, 64)
			case "usec_per_call":
				st.UsecPerCall, _ = strconv.ParseFloat(v, 64)
			}
		}
		stats = append(stats, st)
	}
	return stats
}
