package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// fleetKeys wraps the events scenario's request (wrkScript) so that each
// event carries an Idempotency-Key of its own: the claims are what a Redis
// Cluster spreads over its shards (docs/redis-cluster.md § 2), and a load
// without them would show the graph's shard alone. wrk.format reads
// wrk.headers on every call.
const fleetKeys = `
local event = request
local sent = 0
request = function()
  sent = sent + 1
  wrk.headers["Idempotency-Key"] = "%s-" .. sent
  return event()
end
`

// runFleetWrk drives l with wrk as runWrk does, each request carrying an
// Idempotency-Key starting with prefix, unique to this wrk.
func runFleetWrk(l *eventLoad, prefix string, d time.Duration, dir string) (*loadResult, error) {
	script := filepath.Join(dir, "fleet-events.lua")
	lua := fmt.Sprintf(wrkScript, l.contacts, l.key) + fmt.Sprintf(fleetKeys, prefix)
	if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
		return nil, err
	}
	args := []string{"-t1", "-c" + strconv.Itoa(l.conns), wrkDuration(d), "--latency", "-s", script, "http://" + l.addr + "/v1/events"}
	out, err := exec.Command("wrk", args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	return parseWrk(string(out))
}
