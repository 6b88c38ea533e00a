package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// wrkBatchScript sends each prepared gzip body once, in order, as posthog-js
// does (POST /batch/, text/plain). The bodies file is a sequence of 4-byte
// big-endian lengths, each followed by its body. Once they are all sent,
// requests become GET /_liveness fillers, which done() reports so that they
// are not counted as events.
const wrkBatchScript = `
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain"
n, filler, total = 0, 0, 0 -- globals, so that done() can read them from each thread
local reqs, liveness = {}, nil
-- init runs in the sending thread only (the main state needs no bodies). The
-- requests are formatted here, once, so sending one costs no Lua work.
init = function(args)
  local f = assert(io.open(%q, "rb"))
  while true do
    local h = f:read(4)
    if not h or #h < 4 then break end
    local a, b, c, d = h:byte(1, 4)
    reqs[#reqs + 1] = wrk.format(nil, "/batch/", nil, f:read(((a * 256 + b) * 256 + c) * 256 + d))
  end
  f:close()
  total = #reqs
  liveness = wrk.format("GET", "/_liveness", {}, nil)
end
request = function()
  n = n + 1
  if n > total and %t then
    n = 1 -- a bare handler stores nothing: bodies may be sent again
  elseif n > total then
    filler = filler + 1
    return liveness
  end
  return reqs[n]
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function()
  for _, t in ipairs(threads) do
    io.write(string.format("hogsend-bench: bodies sent %%d, fillers %%d\n", math.min(t:get("n"), t:get("total")), t:get("filler")))
  end
end
`

var wrkBodies = regexp.MustCompile(`hogsend-bench: bodies sent (\d+), fillers (\d+)`)

// runWrk drives POST /batch/ with wrk for d, sending bodies[from:] at most
// once each, and returns the result and how many bodies were used. started
// is called once the proxy has stored the first of them (wrk loads the
// bodies before its clock starts), with the CPU wrk spent loading them.
func (l *batchLoad) runWrk(d time.Duration, dir string, from int, started func(setup time.Duration) error) (*loadResult, int, error) {
	path := filepath.Join(dir, fmt.Sprintf("bodies-%d.bin", from))
	if err := writeBodies(path, l.bodies[from:]); err != nil {
		return nil, 0, err
	}
	defer os.Remove(path)
	script := filepath.Join(dir, "batch.lua")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(wrkBatchScript, path, l.wrap)), 0o644); err != nil {
		return nil, 0, err
	}
	base := "http://" + l.addr
	appended, err := settledMetric(base, l.progressMetric())
	if err != nil {
		return nil, 0, err
	}
	var buf bytes.Buffer
	cmd := exec.Command("wrk", "-t1", "-c"+strconv.Itoa(l.conns), wrkDuration(d), "--timeout", "30s", "--latency", "-s", script, base+"/batch/")
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("start wrk: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for waiting := true; waiting; {
		select {
		case err := <-exited:
			return nil, 0, fmt.Errorf("wrk ended before sending anything: %v\n%s", err, buf.String())
		case <-time.After(5 * time.Millisecond):
			n, err := metricValue(base, l.progressMetric())
			waiting = err != nil || n <= appended
		}
	}
	setup, _ := processCPU(cmd.Process.Pid) // loading the bodies
	if err := started(setup); err != nil {
		cmd.Process.Kill()
		<-exited
		return nil, 0, err
	}
	if err := <-exited; err != nil {
		return nil, 0, fmt.Errorf("wrk: %v\n%s", err, buf.String())
	}
	out := buf.Bytes()
	res, err := parseWrk(string(out))
	if err != nil {
		return nil, 0, err
	}
	m := wrkBodies.FindStringSubmatch(string(out))
	if m == nil {
		return nil, 0, fmt.Errorf("wrk did not report the bodies it sent:\n%s", out)
	}
	sent, _ := strconv.Atoi(m[1])
	fillers, _ := strconv.ParseInt(m[2], 10, 64)
	// parseWrk counts answered requests; fillers are not events, and each
	// acknowledged body is l.events of them.
	res.acked = (res.acked - fillers) * int64(l.events)
	if res.errors > 0 {
		res.firstErrors = append(res.firstErrors, "see wrk's non-2xx and socket error counts")
	}
	return res, sent, nil
}

func writeBodies(path string, bodies [][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var hdr [4]byte
	for _, b := range bodies {
		binary.BigEndian.PutUint32(hdr[:], uint32(len(b)))
		w.Write(hdr[:])
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// settledMetric waits until a counter of the proxy has stopped moving (the
// requests of a previous run have all been answered) and returns it.
func settledMetric(base, name string) (int64, error) {
	last, err := metricValue(base, name)
	for range 200 {
		time.Sleep(50 * time.Millisecond)
		n, err := metricValue(base, name)
		if err != nil {
			return 0, err
		}
		if n == last {
			return n, nil
		}
		last = n
	}
	return last, err
}
