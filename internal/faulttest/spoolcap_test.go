package faulttest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const spoolMax = 64 << 10

// TestSpoolCap (issue 3, scenario 4): with ClickHouse down the spool cannot
// drain; once it reaches HOGSEND_SPOOL_MAX_BYTES new events get 503 with
// Retry-After (never 500, never a crash), the process stays healthy, and when
// ClickHouse returns every acknowledged event is stored exactly once, none of
// the refused ones is, and new events are acknowledged again.
func TestSpoolCap(t *testing.T) {
	const event, after = "cap.test", "cap.after"
	s := newStack(t, "HOGSEND_SPOOL_MAX_BYTES="+itoa(spoolMax))
	c := openCH(t, s.ch)
	p := s.start()
	s.ch.Kill()

	load := newLoad(s.base, s.key, event, 8)
	load.stopAfter503, load.maxPerWorker = 25, 3000
	start := time.Now()
	outcomes := load.run().wait()
	fillTime := time.Since(start)

	acked, refused, firstRefusal := 0, 0, time.Time{}
	for _, o := range outcomes {
		switch o.Status {
		case 202:
			acked++
		case 503:
			refused++
			if o.RetryAfter != "1" {
				t.Errorf("event w=%d seq=%d: 503 with Retry-After %q, want 1", o.W, o.Seq, o.RetryAfter)
			}
			if firstRefusal.IsZero() || o.End.Before(firstRefusal) {
				firstRefusal = o.End
			}
		default:
			t.Errorf("event w=%d seq=%d answered %d %q (err %v), want 202 or 503", o.W, o.Seq, o.Status, o.Body, o.Err)
		}
	}
	if acked == 0 || refused == 0 {
		t.Fatalf("want some 202 then 503 at the cap, got %s", summary(outcomes))
	}
	for w, rs := range load.results {
		if len(rs) == load.maxPerWorker {
			t.Errorf("worker %d sent %d events without reaching the spool cap", w, len(rs))
		}
	}
	if p.exited() {
		t.Fatalf("proxy exited at the spool cap: %v", p.waitErr)
	}
	if status, body, err := httpGet(s.base + "/healthz"); err != nil || status != 200 {
		t.Errorf("/healthz at the spool cap: %d %q %v", status, body, err)
	}
	// /readyz runs its checks at most once a second: poll past a cached answer.
	var ready string
	readyAtCap := func() bool {
		status, body, err := httpGet(s.base + "/readyz")
		ready = fmt.Sprintf("%d %s %v", status, body, err)
		return err == nil && status == 503 && strings.Contains(body, `"clickhouse":{"ok":false`) && strings.Contains(body, "writer backlog")
	}
	for deadline := time.Now().Add(10 * time.Second); !readyAtCap(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("/readyz at the spool cap with ClickHouse down: %s, want 503 naming clickhouse with the writer backlog", ready)
			break
		}
	}
	spoolBytes, err := metric(s.base, "hogsend_spool_bytes")
	if err != nil {
		t.Error(err)
	} else if spoolBytes > spoolMax {
		t.Errorf("hogsend_spool_bytes %v exceeds HOGSEND_SPOOL_MAX_BYTES %d", spoolBytes, spoolMax)
	}

	restartAt := time.Now()
	s.ch.Restart(60 * time.Second)
	drained := waitDrained(t, s.base, c, event, 40*time.Second)
	recovered := time.Since(restartAt)
	stored, extra := checkExactlyOnce(t, c, event, outcomes)
	if extra != 0 {
		t.Errorf("%d events without an answer are stored", extra)
	}

	// The drained spool takes new events again.
	more := newLoad(s.base, s.key, after, 4)
	more.maxPerWorker = 25
	again := more.run().wait()
	ackedAgain := 0
	for _, o := range again {
		if o.acked() {
			ackedAgain++
		} else {
			t.Errorf("after drain: event w=%d seq=%d answered %d %q (err %v), want 202", o.W, o.Seq, o.Status, o.Body, o.Err)
		}
	}
	waitDrained(t, s.base, c, after, 30*time.Second)
	checkExactlyOnce(t, c, after, again)

	t.Logf("ClickHouse down: sent %d in %s (%s); acknowledged %d, refused 503 %d; stored after restart %d; spool bytes at cap %.0f of %d",
		len(outcomes), fillTime.Round(time.Millisecond), summary(outcomes), acked, refused, len(stored), spoolBytes, spoolMax)
	t.Logf("ClickHouse restart to drained %s (ClickHouse start-up included; spool drain alone %s); after drain %d/%d new events acknowledged",
		recovered.Round(time.Millisecond), drained.Round(time.Millisecond), ackedAgain, len(again))
}
