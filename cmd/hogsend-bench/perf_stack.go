package main

import (
	"fmt"
	"time"
)

// stackMode is how the proxy of an edge scenario keeps identity and
// events: beside redis-server and clickhouse-server (server), or in its
// own process with embedded chDB under its data directory (embedded,
// `make run`'s default; docs/operations.md § Edge benchmarks).
type stackMode string

const (
	serverMode   stackMode = "server"
	embeddedMode stackMode = "embedded"
)

// parseModes reads -mode: server, embedded or both.
func parseModes(s string) ([]stackMode, error) {
	switch s {
	case "server":
		return []stackMode{serverMode}, nil
	case "embedded":
		return []stackMode{embeddedMode}, nil
	case "both":
		return []stackMode{serverMode, embeddedMode}, nil
	}
	return nil, fmt.Errorf("-mode %q: want server, embedded or both", s)
}

// startModeStack starts the proxy in mode. An embedded stack has no Redis
// and no ClickHouse: the proxy finds libchdb through CHDB_LIB_PATH, which
// `make bench` sets.
func startModeStack(env *benchEnv, mode stackMode, withPprof bool, extraEnv ...string) (*stack, error) {
	if mode == serverMode {
		return startStack(env, withPprof, extraEnv...)
	}
	fmt.Println("starting hogsend-proxy in embedded mode (in-process identity, chDB) …")
	p, err := startProxy(env, "", "", withPprof, extraEnv...)
	if err != nil {
		return nil, err
	}
	return &stack{addr: p.addr, base: p.base, proxyPID: p.pid, pprofAddr: p.pprofAddr}, nil
}

// embedded reports whether the stack runs without Redis and ClickHouse.
func (st *stack) embedded() bool { return st.redis == nil }

// meter starts measuring the CPU of the stack's processes: the proxy, and
// Redis and ClickHouse when it has them.
func (st *stack) meter() *cpuMeter {
	if st.embedded() {
		return newCPUMeter([]string{"proxy"}, []int{st.proxyPID})
	}
	return st.cpu()
}

// stored waits until the stack holds want events: ClickHouse's row count
// in server mode; in embedded mode chDB lives in the proxy, so it waits
// until the proxy's ClickHouse consumer has read the whole spool.
func (st *stack) stored(want int64) (string, error) {
	if !st.embedded() {
		rows, err := countEvents(st.ch.ClickHouseURL("hogsend"), want, 180*time.Second)
		if err != nil {
			return "", err
		}
		if rows != want {
			return "", fmt.Errorf("rows in user_events (%d) != acknowledged (%d)", rows, want)
		}
		return fmt.Sprintf("user_events rows: %d", rows), nil
	}
	const backlog = `hogsend_spool_backlog_bytes{consumer="clickhouse"}`
	deadline := time.Now().Add(180 * time.Second)
	for {
		left, err := metricValue(st.base, backlog)
		if err != nil {
			return "", err
		}
		if left == 0 {
			return "chDB consumer caught up with the spool (rows are in the proxy's process: not counted)", nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("embedded: %d spool bytes still unread by the ClickHouse consumer", left)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// modeTitle is how a mode is printed in a scenario's heading.
func modeTitle(m stackMode) string {
	if m == embeddedMode {
		return "embedded mode (in-process identity, chDB)"
	}
	return "server mode (Redis, ClickHouse)"
}
