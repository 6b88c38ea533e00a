package main

import (
	"bufio"
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
local bodies = {}
n, filler = 0, 0 -- globals, so that done() can read them from each thread
local f = assert(io.open(%q, "rb"))
while true do
  local h = f:read(4)
  if not h or #h < 4 then break end
  local a, b, c, d = h:byte(1, 4)
  bodies[#bodies + 1] = f:read(((a * 256 + b) * 256 + c) * 256 + d)
end
f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain"
request = function()
  n = n + 1
  if n > #bodies then
    filler = filler + 1
    return wrk.format("GET", "/_liveness", {}, nil)
  end
  return wrk.format(nil, "/batch/", nil, bodies[n])
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function()
  for _, t in ipairs(threads) do
    io.write(string.format("hogsend-bench: bodies sent %%d, fillers %%d\n", math.min(t:get("n"), #bodies), t:get("filler")))
  end
end
`

var wrkBodies = regexp.MustCompile(`hogsend-bench: bodies sent (\d+), fillers (\d+)`)

// runWrk drives POST /batch/ with wrk for d, sending bodies[from:] at most
// once each, and returns the result and how many bodies were used.
func (l *batchLoad) runWrk(d time.Duration, dir string, from int) (*loadResult, int, error) {
	path := filepath.Join(dir, fmt.Sprintf("bodies-%d.bin", from))
	if err := writeBodies(path, l.bodies[from:]); err != nil {
		return nil, 0, err
	}
	defer os.Remove(path)
	script := filepath.Join(dir, "batch.lua")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(wrkBatchScript, path)), 0o644); err != nil {
		return nil, 0, err
	}
	out, err := exec.Command("wrk", "-t1", "-c"+strconv.Itoa(l.conns), "-d"+d.String(), "--timeout", "30s", "--latency", "-s", script,
		"http://"+l.addr+"/batch/").CombinedOutput()
	if err != nil {
		return nil, 0, fmt.Errorf("wrk: %v\n%s", err, out)
	}
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
