package faulttest

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/linkedinfake"
	"github.com/hogsend/hogsend-proxy/internal/fakeengine"
	"github.com/hogsend/hogsend-proxy/internal/fakeposthog"
	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// Three proxies share one Redis and one ClickHouse behind a round-robin
// driver that retries an unanswered request on the next proxy with the same
// Idempotency-Key. One is SIGKILLed with a spool ClickHouse has not taken
// (ClickHouse is paused), and `drain --data-dir` run by another host's
// binary delivers what it left. Every acknowledged event is stored once,
// converted once, handed off to the engine once and mirrored to PostHog
// once (docs/operations.md § Several proxies).
func TestFleetSIGKILLAndDrain(t *testing.T) {
	fake := linkedinfake.New()
	t.Cleanup(fake.Close)
	eng, err := fakeengine.New(fakeengine.Options{NoRequestLog: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Close)
	ph, err := fakeposthog.New(fakeposthog.Options{Token: mirrorToken, NoRequestLog: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ph.Close)
	s := newStack(t, "HOGSEND_CONFIG="+signupConfig(t, fake.URL, strconv.Quote(linkedinfake.DefaultToken), ""),
		"HOGSEND_UPSTREAM_URL="+eng.URL(), "HOGSEND_UPSTREAM_API_KEY="+eng.MintKey("ingest"),
		"HOGSEND_POSTHOG_UPSTREAM_URL="+ph.URL(), "HOGSEND_POSTHOG_ASSETS_URL="+ph.URL(),
		"HOGSEND_POSTHOG_TOKENS="+mirrorToken, "HOGSEND_POSTHOG_MIRROR_NATIVE=true")
	fleet := []*stack{s, s.sibling(), s.sibling()}
	procs := make([]*proxyProc, len(fleet))
	bases := make([]string, len(fleet))
	for i, m := range fleet {
		procs[i], bases[i] = m.start(), m.base
	}
	load := newFleetLoad(bases, s.key, "signed.up", 6).run()
	waitFleetAcked(t, load, 300)
	s.ch.Pause()
	waitFleetAcked(t, load, 900)
	procs[2].kill()
	t.Logf("proxy 3 killed with %d events acknowledged by the fleet", load.acked())
	refusedWhileHeld(t, fleet[0])
	waitFleetAcked(t, load, 1500)
	s.ch.Resume()
	outcomes := load.halt()

	c := openCH(t, s.ch)
	for _, m := range fleet[:2] {
		waitDrained(t, m.base, c, "signed.up", 60*time.Second)
	}
	before := c.count(`SELECT count() FROM hogsend.user_events FINAL WHERE event = 'signed.up'`)
	out := runDrain(t, fleet[2], "--timeout", "90s")
	after := c.count(`SELECT count() FROM hogsend.user_events FINAL WHERE event = 'signed.up'`)
	t.Logf("drain: %s; it stored %d events only the killed proxy's spool held", strings.TrimSpace(out), after-before)
	if after <= before {
		t.Fatalf("the killed proxy's spool held nothing ClickHouse lacked (%d stored before the drain, %d after): nothing was tested", before, after)
	}
	outcomes = load.settle(outcomes)
	stored, extra := checkExactlyOnce(t, c, "signed.up", outcomes)
	t.Logf("%d outcomes (%s), %d stored events, %d stored without an answer", len(outcomes), summary(outcomes), len(stored), extra)
	checkConvertedOnce(t, c, fake, len(stored))
	checkDeliveredOnce(t, stored, eng, ph)
}

// checkDeliveredOnce waits until the engine and PostHog have every stored
// event, and checks each is there once.
func checkDeliveredOnce(t *testing.T, stored map[pair]int, eng *fakeengine.Server, ph *fakeposthog.Server) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for (len(eng.Events()) < len(stored) || ph.Count() < len(stored)) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	seen, _ := engineEvents(t, eng, "signed.up")
	for p := range stored {
		if !seen[p] {
			t.Errorf("stored event w=%d seq=%d never reached the engine", p.W, p.Seq)
		}
	}
	if len(seen) != len(stored) || ph.Count() != len(stored) {
		t.Fatalf("engine has %d events, PostHog %d uuids; ClickHouse stored %d", len(seen), ph.Count(), len(stored))
	}
	t.Logf("engine and PostHog each have the %d events once (PostHog was sent %d again)", len(stored), ph.Duplicates())
}

// sibling is another proxy of the same deployment: the same Redis,
// ClickHouse, key and settings, its own data directory and port.
func (s *stack) sibling() *stack {
	s.t.Helper()
	m := *s
	m.starts = 0
	m.dataDir = s.t.TempDir()
	port := testenv.FreePort(s.t)
	m.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	m.env = append(slices.Clone(s.env), "HOGSEND_DATA_DIR="+m.dataDir, fmt.Sprintf("HOGSEND_LISTEN=127.0.0.1:%d", port))
	return &m
}

// refusedWhileHeld checks drain will not touch a data directory a running
// proxy holds.
func refusedWhileHeld(t *testing.T, m *stack) {
	t.Helper()
	cmd := exec.Command(m.bin, "drain", "--data-dir", m.dataDir, "--timeout", "10s")
	cmd.Env = append(os.Environ(), m.env...)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "another process") {
		t.Fatalf("drain of a running proxy's directory: err %v, output %s", err, out)
	}
}

// runDrain runs `drain --data-dir` on m's directory and returns its output.
func runDrain(t *testing.T, m *stack, args ...string) string {
	t.Helper()
	cmd := exec.Command(m.bin, append([]string{"drain", "--data-dir", m.dataDir}, args...)...)
	cmd.Env = append(os.Environ(), m.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("drain: %v\n%s\n%s", err, stdout.String(), tail(stderr.String(), 4000))
	}
	if !strings.Contains(stdout.String(), "left: clickhouse 0 bytes, conversions 0, hand-off 0, mirror 0") {
		t.Fatalf("drain left work behind: %s", stdout.String())
	}
	return stdout.String()
}

// checkConvertedOnce waits until the platform counted n conversions and
// checks they are exactly one per stored event, under its dedup id.
func checkConvertedOnce(t *testing.T, c *chReader, fake *linkedinfake.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for fake.Ledger.Unique() < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	rows := c.mustQuery(`SELECT toString(id), toString(contact_id) FROM hogsend.user_events FINAL WHERE event = 'signed.up'`)
	want := make([]string, 0, len(rows))
	for _, r := range rows {
		want = append(want, "urn:lla:llaPartnerConversion:77|"+conversions.DedupID(r[1], "signup", r[0]))
	}
	got := fake.Ledger.Keys()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("platform counted %d conversions, want one for each of %d stored events", len(got), len(want))
	}
	t.Logf("%d conversions, each once; %d re-sent copies deduplicated by the platform", len(got), fake.Ledger.Duplicates())
}

// fleetLoad sends numbered events round-robin over several proxies. A send
// that gets no answer, or 503, goes to the next proxy with the same
// Idempotency-Key, as a client behind a load balancer retries.
type fleetLoad struct {
	// proxies send one event to one proxy each, emailed and with an
	// Idempotency-Key.
	proxies      []*loadGen
	stop         chan struct{}
	wg           sync.WaitGroup
	mu           sync.Mutex
	results      [][]outcome
	ackedSoFar   int
	maxAttempts  int
	retryBackoff time.Duration
}

func newFleetLoad(bases []string, key, event string, workers int) *fleetLoad {
	l := &fleetLoad{stop: make(chan struct{}), results: make([][]outcome, workers), maxAttempts: 20, retryBackoff: 20 * time.Millisecond}
	for _, base := range bases {
		g := newLoad(base, key, event, workers)
		g.emailed, g.idempotent = true, true
		l.proxies = append(l.proxies, g)
	}
	return l
}

func (l *fleetLoad) run() *fleetLoad {
	for w := range l.results {
		l.wg.Add(1)
		go l.worker(w)
	}
	return l
}

func (l *fleetLoad) worker(w int) {
	defer l.wg.Done()
	for seq := 0; ; seq++ {
		select {
		case <-l.stop:
			return
		default:
		}
		o := l.deliver(w, seq)
		l.mu.Lock()
		l.results[w] = append(l.results[w], o)
		if o.acked() {
			l.ackedSoFar++
		}
		l.mu.Unlock()
	}
}

// deliver sends one event, moving to the next proxy until one answers
// other than 503.
func (l *fleetLoad) deliver(w, seq int) outcome {
	var o outcome
	for attempt := 0; attempt < l.maxAttempts; attempt++ {
		o = l.proxies[(w+seq+attempt)%len(l.proxies)].send(w, seq)
		if o.Status != 0 && o.Status != http.StatusServiceUnavailable {
			return o
		}
		time.Sleep(l.retryBackoff)
	}
	return o
}

// settle sends again, as their clients would, the events whose last answer
// was none or 503 (a claim the killed proxy left pending). After the drain
// an event the killed proxy had written is a duplicate of its stored copy;
// one it had only claimed stays 503 until the claim expires (60 s) and is
// stored by neither.
func (l *fleetLoad) settle(outcomes []outcome) []outcome {
	out := slices.Clone(outcomes)
	for i, o := range out {
		if o.Status == 0 || o.Status == http.StatusServiceUnavailable {
			out[i] = l.deliver(o.W, o.Seq)
		}
	}
	return out
}

func (l *fleetLoad) acked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ackedSoFar
}

// halt stops the workers and returns every event's final outcome.
func (l *fleetLoad) halt() []outcome {
	close(l.stop)
	l.wg.Wait()
	var all []outcome
	for _, rs := range l.results {
		all = append(all, rs...)
	}
	return all
}

func waitFleetAcked(t *testing.T, l *fleetLoad, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for l.acked() < n {
		if time.Now().After(deadline) {
			t.Fatalf("the fleet acknowledged %d events within 60s, want %d", l.acked(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
