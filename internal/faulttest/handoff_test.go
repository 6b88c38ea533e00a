package faulttest

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
	"github.com/hogsend/hogsend-proxy/internal/fakeengine"
)

// engineStack is a stack whose proxy hands off to a fake engine.
func engineStack(t *testing.T, opts fakeengine.Options, extraEnv ...string) (*stack, *fakeengine.Server) {
	t.Helper()
	eng, err := fakeengine.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Close)
	env := append([]string{
		"HOGSEND_UPSTREAM_URL=" + eng.URL(),
		"HOGSEND_UPSTREAM_API_KEY=" + eng.MintKey("ingest"),
	}, extraEnv...)
	return newStack(t, env...), eng
}

// engineEvents maps each event at the engine to its (worker, seq) and
// fails on an event stored twice; byWorker lists each worker's seqs in the
// order the engine stored them.
func engineEvents(t *testing.T, eng *fakeengine.Server, name string) (seen map[pair]bool, byWorker map[int][]int) {
	t.Helper()
	seen, byWorker = map[pair]bool{}, map[int][]int{}
	for _, ev := range eng.Events() {
		if ev.Name != name {
			continue
		}
		w, _ := ev.EventProperties["w"].(float64)
		seq, _ := ev.EventProperties["seq"].(float64)
		p := pair{int(w), int(seq)}
		if seen[p] {
			t.Fatalf("event w=%d seq=%d stored twice at the engine", p.W, p.Seq)
		}
		seen[p] = true
		byWorker[p.W] = append(byWorker[p.W], p.Seq)
	}
	return seen, byWorker
}

// checkHandedOff waits until every acknowledged event is at the engine,
// then checks each is there once and each worker's (one contact's) in the
// order they were sent.
func checkHandedOff(t *testing.T, eng *fakeengine.Server, name string, outcomes []outcome) {
	t.Helper()
	acked := map[pair]bool{}
	for _, o := range outcomes {
		if o.acked() {
			acked[pair{o.W, o.Seq}] = true
		}
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		seen, byWorker := engineEvents(t, eng, name)
		missing := 0
		for p := range acked {
			if !seen[p] {
				missing++
			}
		}
		if missing == 0 {
			for w, seqs := range byWorker {
				for i := 1; i < len(seqs); i++ {
					if seqs[i] <= seqs[i-1] {
						t.Fatalf("worker %d's events reached the engine out of order: %d after %d", w, seqs[i], seqs[i-1])
					}
				}
			}
			t.Logf("%d acknowledged events at the engine once each, in order per contact (%d at the engine)", len(acked), len(seen))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged events never reached the engine", missing, len(acked))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestHandOffEngineOutage (issue 12): the engine is unreachable for 60 s
// while clients send events. Clients see nothing of it, the hand-off's
// breaker opens and /readyz stays 200 naming the lag; once the engine is
// back, every acknowledged event reaches it once, in order per contact, and
// the breaker closes.
func TestHandOffEngineOutage(t *testing.T) {
	const event = "outage.test"
	s, eng := engineStack(t, fakeengine.Options{NoRequestLog: true})
	s.start()
	load := newLoad(s.base, s.key, event, 4)
	load.pace = 5 * time.Millisecond
	load.run()
	waitAccepted(t, s.base, 200)
	eng.Stop()
	waitMetric(t, s.base, "hogsend_handoff_breaker_open", 1)
	outageEnds := time.Now().Add(60 * time.Second)
	for time.Now().Before(outageEnds) {
		if status, body, err := httpGet(s.base + "/readyz"); err != nil || status != 200 {
			t.Fatalf("/readyz during the outage: %d %s %v", status, body, err)
		}
		time.Sleep(5 * time.Second)
	}
	_, body, _ := httpGet(s.base + "/readyz")
	if lag, _ := metric(s.base, "hogsend_handoff_lag_seconds"); lag < 50 {
		t.Errorf("hand-off lag after a 60 s outage = %v s", lag)
	}
	if err := eng.Restart(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	outcomes := load.halt()
	for _, o := range outcomes {
		if !o.acked() {
			t.Fatalf("a client got %d %q %v during the engine's outage", o.Status, o.Body, o.Err)
		}
	}
	t.Logf("readyz at the end of the outage: %s", body)
	checkHandedOff(t, eng, event, outcomes)
	waitMetric(t, s.base, "hogsend_handoff_breaker_open", 0)
	if dead, _ := metric(s.base, "hogsend_handoff_dead_lettered_total"); dead != 0 {
		t.Fatalf("%v records dead-lettered by an outage", dead)
	}
}

// TestHandOffSIGKILL (issue 12): the proxy is SIGKILLed while it hands a
// backlog off to a slow engine, and restarted: every acknowledged event
// reaches the engine once (the calls after the cursor are sent again under
// the same idempotency keys).
func TestHandOffSIGKILL(t *testing.T) {
	const event = "handoff.kill"
	s, eng := engineStack(t, fakeengine.Options{NoRequestLog: true}, "HOGSEND_UPSTREAM_CONCURRENCY=4")
	eng.Script.SetLatency(3 * time.Millisecond)
	p := s.start()
	load := newLoad(s.base, s.key, event, 8)
	load.maxPerWorker = 400
	load.run()
	outcomes := load.wait()
	waitMetric(t, s.base, "hogsend_handoff_delivered_total", 300, atLeast)
	delivered, _ := metric(s.base, "hogsend_handoff_delivered_total")
	p.kill()
	if int(delivered) >= len(outcomes) {
		t.Fatalf("the hand-off had delivered everything (%v) before the kill", delivered)
	}
	eng.Script.SetLatency(0)
	s.start()
	checkHandedOff(t, eng, event, outcomes)
	t.Logf("killed after %v of %d events were handed off", delivered, len(outcomes))
}

// TestHandOffDeadLetterReplay (issue 12): a record the engine refuses for
// good lands in engine_dead_letters with the engine's answer, and
// `hogsend-proxy upstream replay` delivers it.
func TestHandOffDeadLetterReplay(t *testing.T) {
	s, eng := engineStack(t, fakeengine.Options{})
	c := openCH(t, s.ch)
	p := s.start()
	eng.Script.Push(fakeEngineRefusal)
	if status, body := postEvent(t, s, `{"name":"refused.once","userId":"dl-1","eventProperties":{"n":1}}`, "dl-key-1"); status != 202 {
		t.Fatalf("event answered %d %s", status, body)
	}
	waitCount(t, c, "SELECT count() FROM engine_dead_letters FINAL WHERE replayed_at = toDateTime(0)", 1)
	row := c.mustQuery("SELECT method, path, idempotency_key, status, answer FROM engine_dead_letters FINAL")
	if len(row) != 1 || fmt.Sprint(row[0]) != fmt.Sprint([]string{"POST", "/v1/events", "dl-key-1", "422", fakeEngineRefusal.Body}) {
		t.Fatalf("dead letter %q", row)
	}
	p.kill()
	out := s.run(t, "upstream", "replay")
	if want := "hogsend engine: 1 replayed, 1 delivered, 0 refused again"; !containsLine(out, want) {
		t.Fatalf("upstream replay printed %q, want %q", out, want)
	}
	if eng.StoredCount("dl-key-1") != 1 {
		t.Fatal("the replayed event is not at the engine")
	}
	if n := c.count("SELECT count() FROM engine_dead_letters FINAL WHERE replayed_at = toDateTime(0)"); n != 0 {
		t.Fatalf("%d dead letters left after the replay", n)
	}
}

// fakeEngineRefusal is a final refusal the fake answers on demand.
var fakeEngineRefusal = fakeads.Fault{Status: 422, Body: `{"error":"refused for the test"}`}

// atLeast makes waitMetric accept any value from want up.
const atLeast = true

// waitMetric waits up to 60 s for a /metrics series to equal want (or
// reach it, with atLeast).
func waitMetric(t *testing.T, base, name string, want float64, orMore ...bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := metric(base, name)
		if err == nil && (got == want || len(orMore) > 0 && orMore[0] && got >= want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v within 60 s, want %v (%v)", name, got, want, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitCount waits up to 60 s for a ClickHouse count to reach want.
func waitCount(t *testing.T, c *chReader, sql string, want int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for c.count(sql) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %d within 60 s, want %d", sql, c.count(sql), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// postEvent sends one native event with the stack's key.
func postEvent(t *testing.T, s *stack, body, idempotencyKey string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.base+"/v1/events", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("Content-Type", "application/json")
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	resp, err := plainClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// run runs a subcommand of the binary with the stack's environment and
// returns its output.
func (s *stack) run(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Env = append(os.Environ(), s.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hogsend-proxy %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func containsLine(out, line string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}
