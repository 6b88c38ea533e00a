package faulttest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/internal/fakeposthog"
)

const mirrorToken = "phc_faulttest_project"

// postHogStack is a stack whose proxy is in front of a fake PostHog project.
func postHogStack(t *testing.T, opts fakeposthog.Options, extraEnv ...string) (*stack, *fakeposthog.Server) {
	t.Helper()
	opts.Token = mirrorToken
	ph, err := fakeposthog.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ph.Close)
	env := append([]string{
		"HOGSEND_POSTHOG_UPSTREAM_URL=" + ph.URL(),
		"HOGSEND_POSTHOG_ASSETS_URL=" + ph.URL(),
		"HOGSEND_POSTHOG_TOKENS=" + mirrorToken,
		"HOGSEND_POSTHOG_TIMEOUT=2s",
	}, extraEnv...)
	return newStack(t, env...), ph
}

// captureLoad sends PostHog /batch/ requests of 10 events from workers and
// keeps the uuids of every acknowledged request, and the answers that were
// not 200.
type captureLoad struct {
	base   string
	pace   time.Duration
	client *http.Client
	stop   chan struct{}
	wg     sync.WaitGroup

	mu     sync.Mutex
	acked  []string
	failed []string
	slow   time.Duration // longest answer
}

func newCaptureLoad(base string, workers int, pace time.Duration) *captureLoad {
	l := &captureLoad{base: base, pace: pace, stop: make(chan struct{}),
		client: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}}
	for w := range workers {
		l.wg.Add(1)
		go l.worker(w)
	}
	return l
}

func (l *captureLoad) worker(w int) {
	defer l.wg.Done()
	for seq := 0; ; seq++ {
		select {
		case <-l.stop:
			return
		default:
		}
		ids, body := captureBody(w, seq)
		start := time.Now()
		resp, err := l.client.Post(l.base+"/batch/", "application/json", strings.NewReader(body))
		took := time.Since(start)
		l.mu.Lock()
		l.slow = max(l.slow, took)
		if err != nil {
			l.failed = append(l.failed, err.Error())
		} else {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				l.acked = append(l.acked, ids...)
			} else {
				l.failed = append(l.failed, fmt.Sprintf("%d %s", resp.StatusCode, b))
			}
		}
		l.mu.Unlock()
		time.Sleep(l.pace)
	}
}

// captureBody is one /batch/ request of worker w: 10 events of one person.
func captureBody(w, seq int) ([]string, string) {
	var ids []string
	var b strings.Builder
	fmt.Fprintf(&b, `{"api_key":%q,"batch":[`, mirrorToken)
	for i := range 10 {
		id := uuid.Must(uuid.NewV7()).String()
		ids = append(ids, id)
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"uuid":%q,"event":"mirror.test","distinct_id":"person-%d","timestamp":%q,"properties":{"w":%d,"seq":%d}}`,
			id, w, time.Now().UTC().Format(time.RFC3339Nano), w, seq)
	}
	b.WriteString("]}")
	return ids, b.String()
}

func (l *captureLoad) halt() (acked, failed []string, slowest time.Duration) {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acked, l.failed, l.slow
}

// waitMirrored waits until every acknowledged uuid is at the fake PostHog
// project, each once.
func waitMirrored(t *testing.T, ph *fakeposthog.Server, acked []string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		missing := 0
		for _, id := range acked {
			if !ph.Seen(id) {
				missing++
			}
		}
		if missing == 0 {
			t.Logf("%d acknowledged events at PostHog, %d distinct events there, %d re-sent uuids counted once", len(acked), ph.Count(), ph.Duplicates())
			if ph.Count() != len(acked) {
				t.Fatalf("PostHog has %d events, %d were acknowledged", ph.Count(), len(acked))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged events never reached PostHog", missing, len(acked))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestMirrorPostHogOutage (issue 13): PostHog is unreachable for 60 s while
// clients capture: every capture is answered 200 as usual, /flags answers
// the local fall-back, /readyz stays 200; once PostHog is back, every
// acknowledged event reaches it once.
func TestMirrorPostHogOutage(t *testing.T) {
	s, ph := postHogStack(t, fakeposthog.Options{NoRequestLog: true})
	s.start()
	load := newCaptureLoad(s.base, 4, 10*time.Millisecond)
	waitMetric(t, s.base, "hogsend_posthog_mirror_delivered_total", 100, atLeast)
	ph.Stop()
	waitMetric(t, s.base, "hogsend_posthog_mirror_breaker_open", 1)
	outageEnds := time.Now().Add(60 * time.Second)
	for time.Now().Before(outageEnds) {
		if status, body, err := httpGet(s.base + "/readyz"); err != nil || status != 200 {
			t.Fatalf("/readyz during the outage: %d %s %v", status, body, err)
		}
		status, body := s.call("POST", "/flags/?v=2", "", fmt.Sprintf(`{"token":%q,"distinct_id":"person-1"}`, mirrorToken))
		if status != 200 || !strings.Contains(body, `"featureFlags":{}`) {
			t.Fatalf("/flags during the outage: %d %s, want the local answer", status, body)
		}
		time.Sleep(5 * time.Second)
	}
	if lag, _ := metric(s.base, "hogsend_posthog_mirror_lag_seconds"); lag < 50 {
		t.Errorf("mirror lag after a 60 s outage = %v s", lag)
	}
	if err := ph.Restart(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	acked, failed, slowest := load.halt()
	if len(failed) > 0 {
		t.Fatalf("%d captures failed during PostHog's outage, e.g. %s", len(failed), failed[0])
	}
	t.Logf("slowest capture answer during the run: %s", slowest)
	waitMirrored(t, ph, acked)
	waitMetric(t, s.base, "hogsend_posthog_mirror_breaker_open", 0)
}

// TestMirrorSIGKILL (issue 13): the proxy is SIGKILLed while it mirrors a
// backlog to a slow PostHog, and restarted: every acknowledged event
// reaches PostHog, and PostHog counts each once (re-sent batches carry the
// same uuids).
func TestMirrorSIGKILL(t *testing.T) {
	s, ph := postHogStack(t, fakeposthog.Options{NoRequestLog: true})
	ph.Script.SetLatency(50 * time.Millisecond)
	p := s.start()
	load := newCaptureLoad(s.base, 8, 0)
	waitMetric(t, s.base, "hogsend_posthog_mirror_delivered_total", 500, atLeast)
	acked, failed, _ := load.halt()
	if len(failed) > 0 {
		t.Fatalf("%d captures failed, e.g. %s", len(failed), failed[0])
	}
	delivered, _ := metric(s.base, "hogsend_posthog_mirror_delivered_total")
	p.kill()
	if int(delivered) >= len(acked) {
		t.Fatalf("the mirror had delivered everything (%v of %d) before the kill", delivered, len(acked))
	}
	ph.Script.SetLatency(0)
	s.start()
	waitMirrored(t, ph, acked)
	t.Logf("killed after %v of %d events were mirrored", delivered, len(acked))
}

// TestMirrorDeadLetterReplay (issue 13): an event PostHog refuses for good
// lands in posthog_dead_letters alone (its batch halved), the rest of its
// batch arrives, and `hogsend-proxy posthog replay` delivers it.
func TestMirrorDeadLetterReplay(t *testing.T) {
	s, ph := postHogStack(t, fakeposthog.Options{})
	c := openCH(t, s.ch)
	p := s.start()
	ids, body := captureBody(0, 0)
	ph.RefuseEvent(ids[3], 400, "invalid event")
	if status, out := s.call("POST", "/batch/", "", body); status != 200 {
		t.Fatalf("capture answered %d %s", status, out)
	}
	waitCount(t, c, "SELECT count() FROM posthog_dead_letters FINAL WHERE replayed_at = toDateTime(0)", 1)
	row := c.mustQuery("SELECT uuid, token, status, answer FROM posthog_dead_letters FINAL")
	if len(row) != 1 || fmt.Sprint(row[0]) != fmt.Sprint([]string{ids[3], mirrorToken, "400", "invalid event"}) {
		t.Fatalf("dead letter %q", row)
	}
	for i, id := range ids {
		if ph.Seen(id) != (i != 3) {
			t.Fatalf("event %d at PostHog: %v", i, ph.Seen(id))
		}
	}
	p.kill()
	ph.AcceptEvent(ids[3])
	out := s.run(t, "posthog", "replay")
	if want := "posthog: 1 replayed, 1 delivered, 0 refused again"; !containsLine(out, want) {
		t.Fatalf("posthog replay printed %q, want %q", out, want)
	}
	if !ph.Seen(ids[3]) || ph.Count() != 10 {
		t.Fatalf("after the replay PostHog has %d events (the refused one: %v)", ph.Count(), ph.Seen(ids[3]))
	}
	if n := c.count("SELECT count() FROM posthog_dead_letters FINAL WHERE replayed_at = toDateTime(0)"); n != 0 {
		t.Fatalf("%d dead letters left after the replay", n)
	}
}
