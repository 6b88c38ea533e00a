package abuse

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Bounds the suite holds the proxy to, whatever an attack sends.
const (
	// peakGrowth bounds how far one attack may raise the proxy's peak RSS
	// above its RSS before the attack (limits: 1 MiB bodies, 16 MiB in
	// flight, 4 MiB decoded).
	peakGrowth = 128 << 20
	// peakTotal bounds the peak RSS over the whole run above the RSS after
	// start-up and warm-up.
	peakTotal = 256 << 20
	// peakTotalEmbedded is peakTotal in embedded mode, where the RSS also
	// holds the embedded ClickHouse engine's caches and merges, which grow
	// with the legitimate events stored, outside the proxy's limits.
	peakTotalEmbedded = 384 << 20
	// goroutineSlack is how many goroutines above the baseline (taken
	// with the legitimate client running) count as back to it.
	goroutineSlack = 16
	// attackBound is the longest one attack may run.
	attackBound = 2 * time.Minute
)

// TestAbuseServerMode drives the binary, with Redis and a ClickHouse server,
// with every attack; see runSuite.
func TestAbuseServerMode(t *testing.T) {
	t.Parallel()
	runSuite(t, startServerMode(t))
}

// TestAbuseEmbeddedMode is the same suite on the embedded default
// (in-process identity store, chDB).
func TestAbuseEmbeddedMode(t *testing.T) {
	t.Parallel()
	runSuite(t, startEmbeddedMode(t))
}

// runSuite runs each attack while a legitimate client sends events, and
// after each asserts: the process is alive and answering, every answer was
// a documented status with a reason, the attack raised the peak RSS by at
// most peakGrowth, and the goroutines came back to the baseline. At the
// end every acknowledged legitimate event is in ClickHouse exactly once.
func runSuite(t *testing.T, p *proxyProc) {
	target := Target{Addr: p.addr, Token: publicToken, Key: p.mintKey(), Limits: suiteLimits}
	l := startLegit(p.base, target.Key)
	time.Sleep(2 * time.Second)
	baseline := p.goroutines()
	rss0, _ := p.memory()
	t.Logf("baseline: %d goroutines, RSS %d MiB", baseline, rss0>>20)

	var maxPeak int64
	var maxPeakBy string
	for _, g := range Groups(Attacks(target)) {
		for i, a := range g.Attacks {
			if !p.running() {
				l.stop() // what it would send now only repeats that the proxy is dead
				t.Errorf("%s: not run, the proxy is dead", a.Name)
				continue
			}
			// Goroutines are checked after a group: fasthttp retires idle
			// connection workers only after 10 to 20 s, a wait paid once.
			last := i == len(g.Attacks)-1
			t.Run(a.Name, func(t *testing.T) {
				if peak := attackOnce(t, p, a, target, baseline, last); peak > maxPeak {
					maxPeak, maxPeakBy = peak, a.Name
				}
			})
		}
	}
	// Memory an attack leaves behind raises the next one's starting point;
	// the run as a whole is held to a bound above the start too.
	bound := int64(peakTotal)
	if p.ch == nil {
		bound = peakTotalEmbedded
	}
	if maxPeak-rss0 > bound {
		t.Errorf("peak RSS %d MiB (during %s), %d MiB above the %d MiB after start-up (bound %d MiB)",
			maxPeak>>20, maxPeakBy, (maxPeak-rss0)>>20, rss0>>20, bound>>20)
	}
	t.Logf("peak RSS %d MiB (during %s), %d MiB above start-up", maxPeak>>20, maxPeakBy, (maxPeak-rss0)>>20)
	l.stop()
	reportLegit(t, "native", l.native, 202)
	reportLegit(t, "capture", l.capture, 200)
	native, capture := p.storedEvents(t)
	checkExactlyOnce(t, "native events", l.native, 202, native)
	checkExactlyOnce(t, "capture events", l.capture, 200, capture)
}

// attackOnce runs a and checks the proxy after it; it returns the peak RSS
// during the attack.
func attackOnce(t *testing.T, p *proxyProc, a Attack, target Target, baseline int, endOfGroup bool) int64 {
	before, _ := p.memory()
	if !p.resetPeak() {
		t.Log("cannot reset VmHWM (clear_refs): the peak is the process's")
	}
	ctx, cancel := context.WithTimeout(context.Background(), attackBound)
	res := a.Run(ctx, target)
	overran := errors.Is(ctx.Err(), context.DeadlineExceeded)
	cancel()
	_, peak := p.memory()
	t.Logf("%d requests in %s: %s; peak RSS %d MiB (%+d MiB)", res.Requests, res.Took.Round(time.Millisecond), res.Summary(), peak>>20, (peak-before)>>20)
	reportProblems(t, res.Problems())
	if overran {
		t.Errorf("the attack did not end within %s", attackBound)
	}
	if !p.alive() {
		t.Fatalf("the proxy is dead after %s", a.Name)
	}
	if peak-before > peakGrowth {
		t.Errorf("peak RSS %d MiB, %d MiB above the %d MiB before the attack (bound %d MiB)", peak>>20, (peak-before)>>20, before>>20, peakGrowth>>20)
	}
	if endOfGroup {
		waitGoroutines(t, p, baseline)
	}
	return peak
}

// waitGoroutines waits for the goroutines to come back to the baseline;
// fasthttp retires idle connection workers after 10 s, hence the wait.
func waitGoroutines(t *testing.T, p *proxyProc, baseline int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	n := p.goroutines()
	for n > baseline+goroutineSlack && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		n = p.goroutines()
	}
	if n > baseline+goroutineSlack {
		t.Errorf("goroutines %d, baseline %d: not back within 30s", n, baseline)
	}
}

// reportProblems fails the test with the first dozen problems.
func reportProblems(t *testing.T, problems []string) {
	t.Helper()
	for i, p := range problems {
		if i == 12 {
			t.Errorf("… and %d more", len(problems)-i)
			return
		}
		t.Error(p)
	}
}
