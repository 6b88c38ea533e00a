package faulttest

import (
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMBacklogDrainedByNextStart: with ClickHouse down the writer
// cannot drain, so SIGTERM leaves the acknowledged events in the spool once
// HOGSEND_SHUTDOWN_TIMEOUT runs out. The process exits 0 and logs the
// backlog; the next start inserts every one of them, exactly once (in the raw
// rows too: none was inserted before).
func TestSIGTERMBacklogDrainedByNextStart(t *testing.T) {
	const (
		event   = "term.backlog"
		timeout = 2 * time.Second
		margin  = 10 * time.Second
	)
	s := newStack(t, "HOGSEND_SHUTDOWN_TIMEOUT="+timeout.String())
	p := s.start()
	s.ch.Kill()

	load := newLoad(s.base, s.key, event, 4)
	load.maxPerWorker = 25
	outcomes := load.run().wait()
	for _, o := range outcomes {
		if !o.acked() {
			t.Fatalf("event w=%d seq=%d with ClickHouse down: %d %q (err %v), want 202", o.W, o.Seq, o.Status, o.Body, o.Err)
		}
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !p.waitExit(timeout + margin) {
		t.Fatalf("proxy did not exit within HOGSEND_SHUTDOWN_TIMEOUT %s + %s", timeout, margin)
	}
	if p.waitErr != nil {
		t.Fatalf("proxy exit after SIGTERM: %v, want exit status 0", p.waitErr)
	}
	m := stoppedBacklog.FindStringSubmatch(p.logs.String())
	if m == nil {
		t.Fatalf("no \"stopped spool_backlog_bytes=\" line in the shutdown log:\n%s", tail(p.logs.String(), 4000))
	}
	if backlog, _ := strconv.Atoi(m[1]); backlog <= 0 {
		t.Fatalf("logged spool_backlog_bytes=%d with ClickHouse down, want the unsent events' bytes", backlog)
	}

	s.ch.Restart(60 * time.Second)
	c := openCH(t, s.ch)
	raw := "SELECT count() FROM hogsend.user_events WHERE event = '" + event + "'"
	if n := c.count(raw); n != 0 {
		t.Fatalf("%d rows stored while ClickHouse was down", n)
	}
	s.start()
	waitDrained(t, s.base, c, event, 30*time.Second)
	checkExactlyOnce(t, c, event, outcomes)
	if n := c.count(raw); n != int64(len(outcomes)) {
		t.Fatalf("raw rows after the next start = %d, want the %d acknowledged, each inserted once", n, len(outcomes))
	}
}
