package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/config"
	"github.com/hogsend/hogsend-proxy/internal/abuse"
	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// hostileToken is the capture token of the batch scenario's bodies.
const hostileToken = "phc_bench"

// phaseResult is the legitimate load's figures during one phase.
type phaseResult struct {
	name     string
	rate     float64 // acknowledged events per second
	p99      time.Duration
	peakRSS  int64
	answers  string   // the attacks' answers by status
	problems []string // what the attacks found wrong
	ranOut   bool     // the prepared bodies ran out before the phase ended
}

// runHostile is the hostile scenario on a fresh stack with default limits:
// PostHog /batch/ load (the batch scenario's bodies) alone for a baseline,
// then the same load beside each group of attacks in turn. It prints the
// proxy's peak RSS and the load's throughput and p99 in each phase as a
// ratio of the baseline.
func runHostile(env *benchEnv, phase time.Duration, maxRSS int64, only string, conns, contacts int, cpuProfile string) error {
	defer env.close()
	// Under attack the proxy logs every refused connection: into a file,
	// whose tail is shown if the scenario fails.
	logPath := filepath.Join(env.TempDir(), "proxy.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("proxy log: %w", err)
	}
	defer logFile.Close()
	env.proxyOutput = logFile
	st, err := startStack(env, cpuProfile != "", "HOGSEND_POSTHOG_TOKENS="+hostileToken)
	if err != nil {
		return err
	}
	key, err := mintKey(st.base, "bench-admin-key")
	if err != nil {
		return err
	}
	cfg := config.Default()
	target := abuse.Target{Addr: st.addr, Token: hostileToken, Key: key, Limits: abuse.Limits{
		MaxBodyBytes: int(cfg.MaxBodyBytes), MaxDecodedBytes: int(cfg.MaxDecodedBytes), MaxConnsPerIP: cfg.MaxConnsPerIP,
		MaxProperties: cfg.MaxProperties, MaxEvents: cfg.MaxEventsPerBatch,
		HeaderTimeout: cfg.HeaderTimeout, ReadTimeout: cfg.ReadTimeout,
	}}
	fmt.Printf("\nhostile: POST /batch/ (50 events a gzip request, %d connections) alone for %s, then beside each group of attacks for %s; default limits\n", conns, phase, phase)
	h := &hostileRun{st: st, target: target, cpuProfile: cpuProfile, load: &batchLoad{addr: st.addr, conns: conns, events: 50}, contacts: contacts, maxRSS: maxRSS}
	stopWatch := h.watchRSS()
	defer stopWatch()
	if err := h.phase("warm-up", min(phase, 3*time.Second), nil); err != nil {
		return err
	}
	h.results = nil
	printPhaseHeader()
	fail := func(err error) error {
		fmt.Printf("  proxy log (tail):\n%s\n", logTail(logPath, 3000))
		return err
	}
	if err := h.phase("baseline", phase, nil); err != nil {
		return fail(err)
	}
	for _, g := range abuse.Groups(abuse.Attacks(target)) {
		if only != "" && !slices.Contains(strings.Split(only, ","), g.Name) {
			continue
		}
		if err := h.phase(g.Name, phase, g.Attacks); err != nil {
			h.printPeak()
			return fail(err)
		}
	}
	h.printPeak()
	var acked int64
	for _, n := range h.acked {
		acked += n
	}
	// The batch load's events are its visitors' $pageviews; the attacks' are not.
	ctx, cancel := context.WithTimeout(context.Background(), 190*time.Second)
	defer cancel()
	rows, err := waitRows(ctx, st.ch.ClickHouseURL("hogsend"),
		"event = '$pageview' AND startsWith(distinct_id, 'visitor-')", acked, 180*time.Second)
	if err != nil {
		return err
	}
	fmt.Printf("  legitimate events: %d acknowledged (warm-up included), %d in user_events\n", acked, rows)
	if rows != acked {
		return fmt.Errorf("legitimate rows in user_events (%d) != acknowledged (%d)", rows, acked)
	}
	return nil
}

// hostileRun is the state of one hostile scenario.
type hostileRun struct {
	st       *stack
	target   abuse.Target
	load     *batchLoad
	contacts int
	maxRSS   int64
	// cpuProfile, when set, is the path prefix of each phase's CPU profile.
	cpuProfile string
	results    []phaseResult
	acked      []int64

	mu          sync.Mutex
	stopAttacks func()      // cancels the running phase's attacks
	overRSS     atomic.Bool // the proxy's RSS passed maxRSS
}

// phase runs the legitimate load for d with attacks repeated beside it,
// each in a loop until d has passed.
func (h *hostileRun) phase(name string, d time.Duration, attacks []abuse.Attack) error {
	h.load.bodies = buildBatchBodies(h.bodiesFor(d), h.load.events, h.contacts, browserFlush)
	for _, a := range attacks {
		a.Prepare(h.target)
	}
	_ = testenv.ResetPeakRSS(h.st.proxyPID) // best effort: the peak is then the whole run's
	ctx, cancel := context.WithCancel(context.Background())
	tally := newAttackTally()
	var wg sync.WaitGroup
	for _, a := range attacks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				tally.add(a.Run(ctx, h.target))
			}
		}()
	}
	h.mu.Lock()
	h.stopAttacks = cancel
	h.mu.Unlock()
	profiled := h.profile(name, d)
	var next atomic.Int64
	res, err := h.load.run(d, &next)
	cancel()
	wg.Wait()
	<-profiled
	if err != nil {
		return err
	}
	h.acked = append(h.acked, res.acked)
	r := phaseResult{
		name: name, rate: float64(res.acked) / res.elapsed.Seconds(), p99: res.p(0.99), peakRSS: peakOf(h.st.proxyPID),
		answers: tally.summary(), problems: tally.problems(), ranOut: int(next.Load()) >= len(h.load.bodies),
	}
	h.results = append(h.results, r)
	if name != "warm-up" {
		printPhase(r, h.results[0])
	}
	if h.overRSS.Load() {
		return fmt.Errorf("the proxy's RSS passed %d MiB during %q: stopped (-hostile-max-rss)", h.maxRSS>>20, name)
	}
	if status, _, err := fasthttp.GetTimeout(nil, h.st.base+"/healthz", 10*time.Second); err != nil || status != 200 {
		return fmt.Errorf("the proxy does not answer /healthz after %q (%d, %v)", name, status, err)
	}
	return nil
}

// profile fetches the proxy's CPU profile of a phase of d into
// cpuProfile.<phase>, when asked to; the channel closes when it is written.
func (h *hostileRun) profile(name string, d time.Duration) <-chan struct{} {
	done := make(chan struct{})
	if h.cpuProfile == "" {
		close(done)
		return done
	}
	path := h.cpuProfile + "." + strings.ReplaceAll(name, " ", "-")
	go func() {
		defer close(done)
		if err := fetchProfile(h.st.pprofAddr, d, path); err != nil {
			fmt.Fprintf(os.Stderr, "  %s: %v\n", name, err)
		}
	}()
	return done
}

// watchRSS samples the proxy's RSS until the returned stop is called; once
// it passes maxRSS it stops the running phase's attacks and sets overRSS.
func (h *hostileRun) watchRSS() (stop func()) {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if rss, _ := testenv.ProcMemory(h.st.proxyPID); rss > h.maxRSS {
				h.overRSS.Store(true)
				h.mu.Lock()
				if h.stopAttacks != nil {
					h.stopAttacks()
				}
				h.mu.Unlock()
			}
		}
	}()
	return func() { close(done) }
}

// bodiesFor is how many bodies a phase of d needs: half again the
// baseline's rate, or 2000 requests a second before there is one.
func (h *hostileRun) bodiesFor(d time.Duration) int {
	perSecond := 2000.0
	if len(h.results) > 0 {
		perSecond = 1.5 * h.results[0].rate / float64(h.load.events)
	}
	return int(perSecond*d.Seconds()) + 200
}

func printPhaseHeader() {
	fmt.Printf("\n  %-22s %10s %6s %10s %6s %9s  %s\n", "phase", "events/s", "ratio", "p99", "ratio", "peak RSS", "attack answers")
}

// printPhase prints one phase's row; ratios are of base (p99: base's p99
// over the phase's, so that 0.5 means twice the latency).
func printPhase(r, base phaseResult) {
	p99Ratio := 0.0
	if r.p99 > 0 {
		p99Ratio = float64(base.p99) / float64(r.p99)
	}
	note := ""
	if r.ranOut {
		note = " (prepared bodies ran out)"
	}
	fmt.Printf("  %-22s %10.0f %6.2f %10s %6.2f %5d MiB  %s%s\n", r.name, r.rate, r.rate/base.rate, roundLatency(r.p99), p99Ratio, r.peakRSS>>20, r.answers, note)
	for i, p := range r.problems {
		if i == 3 {
			fmt.Printf("  %22s … and %d more\n", "", len(r.problems)-i)
			break
		}
		fmt.Printf("  %22s ! %s\n", "", clip(p, 200))
	}
}

func (h *hostileRun) printPeak() {
	var peak int64
	for _, r := range h.results {
		peak = max(peak, r.peakRSS)
	}
	fmt.Printf("  proxy peak RSS %d MiB (goal under 512 MiB); throughput and p99 ratios goal at least 0.5\n", peak>>20)
}

func roundLatency(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(10 * time.Microsecond)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// attackTally merges the results of every run of a phase's attacks.
type attackTally struct {
	mu     sync.Mutex
	counts map[string]map[string]int // attack → status → count
	probs  map[string]bool
}

func newAttackTally() *attackTally {
	return &attackTally{counts: map[string]map[string]int{}, probs: map[string]bool{}}
}

func (t *attackTally) add(r *abuse.Result) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts[r.Name] == nil {
		t.counts[r.Name] = map[string]int{}
	}
	for _, part := range strings.Fields(r.Summary()) {
		status, n, _ := strings.Cut(part, "×")
		k, _ := strconv.Atoi(n)
		t.counts[r.Name][status] += k
	}
	for _, p := range r.Problems() {
		t.probs[r.Name+": "+p] = true
	}
}

func (t *attackTally) summary() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var parts []string
	for name, byStatus := range t.counts {
		var s []string
		for status, n := range byStatus {
			s = append(s, fmt.Sprintf("%s×%d", status, n))
		}
		sort.Strings(s)
		parts = append(parts, name+" "+strings.Join(s, " "))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

func (t *attackTally) problems() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.probs))
	for p := range t.probs {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// logTail is the end of the proxy's log without fasthttp's line per
// refused connection, which an attack repeats by the thousand.
func logTail(path string, n int) string {
	b, _ := os.ReadFile(path)
	var keep []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "error when serving connection") {
			keep = append(keep, line)
		}
	}
	out := strings.Join(keep, "\n")
	if len(out) > n {
		out = "…" + out[len(out)-n:]
	}
	return out
}

func peakOf(pid int) int64 {
	_, peak := testenv.ProcMemory(pid)
	return peak
}
