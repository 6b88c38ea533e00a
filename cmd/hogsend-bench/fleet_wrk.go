package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// fleetWrkScript is the events scenario's request with an Idempotency-Key
// of its own on each: the claims are what a Redis Cluster spreads over its
// shards (docs/redis-cluster.md § 2), and a load without them would show the
// graph's shard alone.
const fleetWrkScript = `
local contacts = %d
local n = 0
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %s"}
request = function()
  n = n + 1
  local body = '{"name":"page.viewed","email":"user' .. math.random(0, contacts - 1) ..
    '@bench.example","eventProperties":{"path":"/pricing","n":' .. n .. '}}'
  headers["Idempotency-Key"] = "%s-" .. n
  return wrk.format("POST", "/v1/events", headers, body)
end
`

// runFleetWrk drives l with wrk as runWrk does, each request carrying an
// Idempotency-Key starting with prefix, unique to this wrk.
func runFleetWrk(l *eventLoad, prefix string, d time.Duration, dir string) (*loadResult, error) {
	script := filepath.Join(dir, "fleet-events.lua")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(fleetWrkScript, l.contacts, l.key, prefix)), 0o644); err != nil {
		return nil, err
	}
	out, err := exec.Command("wrk", "-t1", "-c"+strconv.Itoa(l.conns), wrkDuration(d), "--latency", "-s", script,
		"http://"+l.addr+"/v1/events").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	return parseWrk(string(out))
}
