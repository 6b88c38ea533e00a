package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// redisCLI runs one redis-cli command against addr, with password when not
// empty, and returns its answer.
func redisCLI(cli, addr, password string, args ...string) (string, error) {
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command(cli, append([]string{"-h", host, "-p", port}, args...)...)
	if password != "" {
		cmd.Env = append(os.Environ(), "REDISCLI_AUTH="+password)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("redis-cli %s %s: %w: %s", addr, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// waitFor polls cond every 100 ms until it holds or timeout passes; what
// names the condition in the failure.
func waitFor(tb TB, timeout time.Duration, what string, cond func() (bool, string)) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %s; last seen: %s", what, timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// addrList is the processes' host:port, comma-separated, as the
// redis+cluster and redis+sentinel URLs list them.
func addrList(ps []*Process) string {
	addrs := make([]string, len(ps))
	for i, p := range ps {
		addrs[i] = p.Addr
	}
	return strings.Join(addrs, ",")
}
