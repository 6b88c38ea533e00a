package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkScript makes each request a new event for a contact drawn at random from
// the pool, as the Go generator does, at a fraction of its CPU cost.
const wrkScript = `
local contacts = %d
local n = 0
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
request = function()
  n = n + 1
  local body = '{"name":"page.viewed","email":"user' .. math.random(0, contacts - 1) ..
    '@bench.example","eventProperties":{"path":"/pricing","n":' .. n .. '}}'
  return wrk.format(nil, "/v1/events", nil, body)
end
`

// wrkDuration is wrk's -d flag for d, in whole seconds: wrk takes one unit,
// not Go's "1m3s".
func wrkDuration(d time.Duration) string {
	return "-d" + strconv.Itoa(int(math.Ceil(d.Seconds()))) + "s"
}

// runWrk drives the load with wrk (one thread, conns connections: a second
// thread only adds context switches on a 2-core machine)
// and parses its summary.
func (l *eventLoad) runWrk(d time.Duration, dir string) (*loadResult, error) {
	script := filepath.Join(dir, "events.lua")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(wrkScript, l.contacts, l.key)), 0o644); err != nil {
		return nil, err
	}
	out, err := exec.Command("wrk", "-t1", "-c"+strconv.Itoa(l.conns), wrkDuration(d), "--latency", "-s", script,
		"http://"+l.addr+"/v1/events").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	return parseWrk(string(out))
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in ([\d.]+)(m?s|m)`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkErrors   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkPct      = regexp.MustCompile(`(?m)^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)`)
)

func parseWrk(out string) (*loadResult, error) {
	m := wrkRequests.FindStringSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("unexpected wrk output:\n%s", out)
	}
	total, _ := strconv.ParseInt(m[1], 10, 64)
	secs, _ := strconv.ParseFloat(m[2], 64)
	switch m[3] {
	case "ms":
		secs /= 1000
	case "m":
		secs *= 60
	}
	res := &loadResult{elapsed: time.Duration(secs * float64(time.Second)), pct: map[string]time.Duration{}}
	if e := wrkNon2xx.FindStringSubmatch(out); e != nil {
		res.errors, _ = strconv.ParseInt(e[1], 10, 64)
	}
	if e := wrkErrors.FindStringSubmatch(out); e != nil {
		for _, s := range e[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			res.errors += n
		}
	}
	res.acked = total - res.errors
	for _, p := range wrkPct.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(p[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[p[3]]
		res.pct[p[1]] = time.Duration(v * float64(unit))
	}
	if strings.Contains(out, "Socket errors") {
		fmt.Print(out)
	}
	return res, nil
}
