package faulttest

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSIGKILLUnderLoad (issue 3, scenario 1): the proxy is SIGKILLed while 16
// clients send events, a torn frame is appended to the last spool segment as a
// crash mid-write would leave it, and the proxy restarts on the same data
// directory. Start-up must truncate (and log) the torn tail, and every
// acknowledged event must end up in user_events exactly once.
func TestSIGKILLUnderLoad(t *testing.T) {
	const event = "kill.test"
	s := newStack(t)
	c := openCH(t, s.ch)
	p := s.start()

	const workers = 16
	load := newLoad(s.base, s.key, event, workers).run()
	waitAccepted(t, s.base, 500)
	killedAt := time.Now()
	p.kill()
	waitUnanswered(t, load, 2*workers) // clients keep sending to the dead proxy
	outcomes := load.halt()

	acked, inflight := 0, 0
	for _, o := range outcomes {
		switch {
		case o.acked():
			acked++
		case o.Status != 0:
			// Redis and ClickHouse are healthy: nothing but 202 is a right answer.
			t.Errorf("event w=%d seq=%d answered %d %q before the kill", o.W, o.Seq, o.Status, o.Body)
		case o.Start.Before(killedAt):
			inflight++
		}
	}
	if acked == 0 {
		t.Fatalf("no event acknowledged before the kill: %s", summary(outcomes))
	}

	seg := lastSegment(t, filepath.Join(s.dataDir, "spool"))
	tornBytes := appendTornFrame(t, seg)

	restartAt := time.Now()
	p2 := s.start() // fails the test if start-up fails
	ready := time.Since(restartAt)
	logs := p2.logs.String()
	tornLine := logLine(logs, "spool: truncated torn tail")
	if tornLine == "" {
		t.Errorf("restart did not log the truncated torn tail of %s:\n%s", filepath.Base(seg), logs)
	} else if m := droppedBytes.FindStringSubmatch(tornLine); m == nil {
		t.Errorf("torn tail line names no dropped_bytes: %s", tornLine)
	} else if n, _ := strconv.Atoi(m[1]); n < tornBytes {
		// More than the appended frame is fine (a write the kill tore
		// itself was never acknowledged); less means it was not all cut.
		t.Errorf("torn tail: dropped %d bytes, want at least the %d appended", n, tornBytes)
	}
	drained := waitDrained(t, s.base, c, event, 40*time.Second)

	stored, extra := checkExactlyOnce(t, c, event, outcomes)
	raw := c.count("SELECT count() FROM hogsend.user_events WHERE event = '" + event + "'")
	rawIDs := c.count("SELECT uniqExact(id) FROM hogsend.user_events WHERE event = '" + event + "'")
	// Before FINAL a batch inserted again after the kill may show twice, but
	// only as the same ids: never a row FINAL does not collapse.
	if rawIDs != int64(len(stored)) || raw < rawIDs || raw > 2*rawIDs {
		t.Errorf("rows before FINAL: %d rows of %d distinct ids, want %d ids (the stored events), each at most twice", raw, rawIDs, len(stored))
	}
	t.Logf("sent %d (%s); acknowledged %d; in flight at SIGKILL %d; stored after FINAL %d (extra, unacknowledged in-flight: %d); rows before FINAL %d",
		len(outcomes), summary(outcomes), acked, inflight, len(stored), extra, raw)
	t.Logf("torn tail: %s", tornLine)
	t.Logf("restart to ready %s, ready to drained %s, restart to drained %s",
		ready.Round(time.Millisecond), drained.Round(time.Millisecond), (ready + drained).Round(time.Millisecond))
}

var droppedBytes = regexp.MustCompile(`dropped_bytes=(\d+)`)

// lastSegment returns the spool segment file with the highest name.
func lastSegment(t *testing.T, dir string) string {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no spool segment in %s (%v)", dir, err)
	}
	slices.Sort(segs)
	return segs[len(segs)-1]
}

// appendTornFrame appends what a crash in the middle of a write leaves: a
// frame header announcing 4096 payload bytes with a made-up checksum, and only
// the first 100 of them. It returns the bytes appended.
func appendTornFrame(t *testing.T, seg string) int {
	t.Helper()
	frame := binary.LittleEndian.AppendUint32(nil, 4096)
	frame = binary.LittleEndian.AppendUint32(frame, 0xdeadbeef)
	for i := 0; i < 100; i++ {
		frame = append(frame, byte('a'+i%26))
	}
	f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(frame); err != nil {
		t.Fatal(err)
	}
	return len(frame)
}

// logLine returns the first log line containing s.
func logLine(logs, s string) string {
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}
