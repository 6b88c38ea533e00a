// Package faulttest runs the real hogsend-proxy binary against real Redis and
// ClickHouse processes and breaks things while it is under load: SIGKILL with
// a torn spool tail, SIGTERM, a full spool. Each test proves the promise of
// issue 3: an acknowledged event is stored exactly once, and an event that
// could not be made durable is answered with a retryable status.
package faulttest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/sinks/clickhouse"
)

// proxyBin is the binary under test, built once for the package.
var proxyBin = testenv.ProxyBinary{Version: "v-faulttest"}

func TestMain(m *testing.M) {
	code := m.Run()
	proxyBin.Remove()
	os.Exit(code)
}

func proxyBinary(t *testing.T) string { return proxyBin.Path(t) }

// stack is one deployment under test: Redis, ClickHouse, a data directory, a
// listen address, an ingest key, and the environment the binary runs with.
type stack struct {
	t       *testing.T
	bin     string
	redis   *testenv.Process
	ch      *testenv.Process
	dataDir string
	base    string
	env     []string
	key     string
	starts  int
}

// newStack starts Redis and ClickHouse, builds the binary and mints an ingest
// key with `keys create` (server mode). extraEnv are HOGSEND_* overrides.
func newStack(t *testing.T, extraEnv ...string) *stack {
	t.Helper()
	ch := testenv.ClickHouse(t)
	s := newStackOn(t, ch.ClickHouseURL("hogsend"), extraEnv...)
	s.ch = ch
	return s
}

// newStackOn is newStack on the ClickHouse at chURL (a cluster's, say).
func newStackOn(t *testing.T, chURL string, extraEnv ...string) *stack {
	t.Helper()
	s := &stack{t: t, bin: proxyBinary(t)}
	s.redis = testenv.Redis(t)
	s.dataDir = t.TempDir()
	port := testenv.FreePort(t)
	s.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	s.env = append([]string{
		"HOGSEND_REDIS_URL=" + s.redis.RedisURL(),
		"HOGSEND_CLICKHOUSE_URL=" + chURL,
		"HOGSEND_DATA_DIR=" + s.dataDir,
		fmt.Sprintf("HOGSEND_LISTEN=127.0.0.1:%d", port),
		"HOGSEND_SHUTDOWN_TIMEOUT=10s",
		"HOGSEND_CLICKHOUSE_BATCH_DELAY=200ms",
		"HOGSEND_LOG_LEVEL=info",
	}, extraEnv...)
	cmd := exec.Command(s.bin, "keys", "create", "--name", "faulttest", "--scopes", "ingest")
	cmd.Env = append(os.Environ(), s.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("keys create: %v\n%s", err, stderr.String())
	}
	s.key = strings.TrimSpace(stdout.String())
	if !strings.HasPrefix(s.key, "hsk_") {
		t.Fatalf("keys create printed %q", s.key)
	}
	return s
}

// logBuffer collects a process's stderr for assertions, safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// proxyProc is one run of `hogsend-proxy serve`.
type proxyProc struct {
	t       *testing.T
	cmd     *exec.Cmd
	logs    *logBuffer
	done    chan struct{}
	waitErr error
}

// start runs `serve` on the stack's data directory and waits for /readyz 200.
func (s *stack) start() *proxyProc {
	s.t.Helper()
	s.starts++
	p := &proxyProc{t: s.t, logs: &logBuffer{}, done: make(chan struct{})}
	logFile, err := os.Create(filepath.Join(s.t.TempDir(), fmt.Sprintf("proxy-%d.log", s.starts)))
	if err != nil {
		s.t.Fatal(err)
	}
	p.cmd = exec.Command(s.bin, "serve")
	p.cmd.Env = append(os.Environ(), s.env...)
	p.cmd.Stdout = io.MultiWriter(p.logs, logFile)
	p.cmd.Stderr = p.cmd.Stdout
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		logFile.Close()
		s.t.Fatalf("start proxy: %v", err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	n := s.starts
	s.t.Cleanup(func() {
		if !p.exited() {
			p.kill()
		}
		if s.t.Failed() {
			s.t.Logf("proxy run #%d log (tail):\n%s", n, tail(p.logs.String(), 6000))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if p.exited() {
			s.t.Fatalf("proxy run #%d exited during start-up: %v\n%s", n, p.waitErr, p.logs.String())
		}
		if status, _, err := httpGet(s.base + "/readyz"); err == nil && status == 200 {
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("proxy run #%d not ready within 30s\n%s", n, p.logs.String())
	return nil
}

func (p *proxyProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proxyProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// waitExit waits up to timeout; it reports whether the process exited.
func (p *proxyProc) waitExit(timeout time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

var plainClient = &http.Client{Timeout: 10 * time.Second}

func httpGet(url string) (int, string, error) {
	resp, err := plainClient.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// metric reads one sample from /metrics by its full name with labels.
func metric(base, name string) (float64, error) {
	status, body, err := httpGet(base + "/metrics")
	if err != nil {
		return 0, err
	}
	if status != 200 {
		return 0, fmt.Errorf("/metrics: status %d", status)
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("/metrics has no %s", name)
}

const backlogMetric = `hogsend_spool_backlog_bytes{consumer="clickhouse"}`

// outcome is the client's view of one POST /v1/events.
type outcome struct {
	W, Seq     int
	Status     int // 0: transport error (no HTTP answer)
	Err        error
	RetryAfter string
	Body       string
	Start, End time.Time
}

func (o outcome) acked() bool { return o.Status == 202 }

// pair identifies an event by the worker and sequence number in its properties.
type pair struct{ W, Seq int }

// loadGen sends events from concurrent workers until stopped. Each worker
// numbers its events 0, 1, 2, … and owns its slice of outcomes.
type loadGen struct {
	base, key, event string
	client           *http.Client
	stop             chan struct{}
	wg               sync.WaitGroup
	results          [][]outcome
	// stopAfter503, if positive, ends a worker after that many consecutive 503s.
	stopAfter503 int
	maxPerWorker int
	// emailed adds an email to every event's contact (ad platforms need an
	// identifier to match).
	emailed bool
	// unanswered counts sends that got no HTTP answer, for tests that wait
	// until the clients have met a dead proxy.
	unanswered atomic.Int64
	// pace, if positive, is each worker's pause between sends: a steady
	// load for tests that run for a minute.
	pace time.Duration
	// idempotent gives every event its own idempotency key, so that each
	// send takes a claim in Redis.
	idempotent bool
}

func newLoad(base, key, event string, workers int) *loadGen {
	return &loadGen{
		base: base, key: key, event: event,
		client: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
			MaxIdleConns: workers, MaxIdleConnsPerHost: workers, DisableCompression: true,
		}},
		stop:    make(chan struct{}),
		results: make([][]outcome, workers),
	}
}

func (l *loadGen) run() *loadGen {
	for w := range l.results {
		l.wg.Add(1)
		go l.worker(w)
	}
	return l
}

func (l *loadGen) worker(w int) {
	defer l.wg.Done()
	consecutive503 := 0
	for seq := 0; l.maxPerWorker <= 0 || seq < l.maxPerWorker; seq++ {
		select {
		case <-l.stop:
			return
		default:
		}
		o := l.send(w, seq)
		l.results[w] = append(l.results[w], o)
		if o.Status == 503 {
			consecutive503++
			if l.stopAfter503 > 0 && consecutive503 >= l.stopAfter503 {
				return
			}
		} else {
			consecutive503 = 0
		}
		if o.Status == 0 {
			l.unanswered.Add(1)
			// The proxy is down; do not spin on connection refused.
			time.Sleep(10 * time.Millisecond)
		}
		if l.pace > 0 {
			time.Sleep(l.pace)
		}
	}
}

func (l *loadGen) send(w, seq int) outcome {
	o := outcome{W: w, Seq: seq, Start: time.Now()}
	body := fmt.Sprintf(`{"name":%q,"userId":"fault-w%d","eventProperties":{"seq":%d,"w":%d}}`, l.event, w, seq, w)
	if l.emailed {
		body = fmt.Sprintf(`{"name":%q,"userId":"fault-w%d","email":"fault-w%d@example.com","eventProperties":{"seq":%d,"w":%d}}`, l.event, w, w, seq, w)
	}
	req, _ := http.NewRequest("POST", l.base+"/v1/events", strings.NewReader(body))
	if l.idempotent {
		req.Header.Set("Idempotency-Key", fmt.Sprintf("%s-w%d-s%d", l.event, w, seq))
	}
	req.Header.Set("Authorization", "Bearer "+l.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.client.Do(req)
	if err != nil {
		o.Err, o.End = err, time.Now()
		return o
	}
	b, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	o.End = time.Now()
	if rerr != nil {
		// Headers without the whole body: not an acknowledgement.
		o.Err = fmt.Errorf("read body: %w", rerr)
		return o
	}
	o.Status, o.Body, o.RetryAfter = resp.StatusCode, string(b), resp.Header.Get("Retry-After")
	if o.Status == 202 && !strings.Contains(o.Body, `"stored":true`) {
		o.Err = fmt.Errorf("202 without stored:true: %s", o.Body)
	}
	return o
}

// halt stops the workers and returns every outcome.
func (l *loadGen) halt() []outcome {
	close(l.stop)
	return l.wait()
}

// wait waits for the workers to end by themselves (stopAfter503/maxPerWorker).
func (l *loadGen) wait() []outcome {
	l.wg.Wait()
	l.client.CloseIdleConnections()
	var all []outcome
	for _, rs := range l.results {
		all = append(all, rs...)
	}
	return all
}

// summary counts outcomes by status ("err" for transport errors).
func summary(outcomes []outcome) string {
	counts := map[string]int{}
	for _, o := range outcomes {
		k := "err"
		if o.Status != 0 {
			k = strconv.Itoa(o.Status)
		}
		counts[k]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%d", k, counts[k])
	}
	return b.String()
}

// chReader queries the test's ClickHouse directly.
type chReader struct {
	t   *testing.T
	srv *clickhouse.Server
}

func openCH(t *testing.T, ch *testenv.Process) *chReader {
	t.Helper()
	return openCHURL(t, ch.ClickHouseURL("hogsend"))
}

// openCHURL is openCH on the ClickHouse at url.
func openCHURL(t *testing.T, url string) *chReader {
	t.Helper()
	srv, err := clickhouse.OpenServer(context.Background(), url)
	if err != nil {
		t.Fatalf("open clickhouse: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return &chReader{t: t, srv: srv}
}

func (c *chReader) query(sql string) ([][]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return c.srv.Query(ctx, sql)
}

func (c *chReader) mustQuery(sql string) [][]string {
	c.t.Helper()
	rows, err := c.query(sql)
	if err != nil {
		c.t.Fatalf("query %q: %v", sql, err)
	}
	return rows
}

func (c *chReader) count(sql string) int64 {
	c.t.Helper()
	rows := c.mustQuery(sql)
	if len(rows) != 1 || len(rows[0]) != 1 {
		c.t.Fatalf("query %q: want one value, got %v", sql, rows)
	}
	n, err := strconv.ParseInt(rows[0][0], 10, 64)
	if err != nil {
		c.t.Fatalf("query %q: %v", sql, err)
	}
	return n
}

// storedPairs returns how many rows (after FINAL) each (w, seq) of event has.
func (c *chReader) storedPairs(event string) map[pair]int {
	c.t.Helper()
	// ClickHouse 18.16 has no positional GROUP BY (1, 2 are constants there).
	rows := c.mustQuery(fmt.Sprintf(`SELECT visitParamExtractInt(properties, 'w') AS w, visitParamExtractInt(properties, 'seq') AS seq, count()
FROM hogsend.user_events FINAL WHERE event = '%s' GROUP BY w, seq`, event))
	out := make(map[pair]int, len(rows))
	for _, r := range rows {
		w, err1 := strconv.Atoi(r[0])
		seq, err2 := strconv.Atoi(r[1])
		n, err3 := strconv.Atoi(r[2])
		if err := errors.Join(err1, err2, err3); err != nil {
			c.t.Fatalf("storedPairs row %v: %v", r, err)
		}
		out[pair{w, seq}] = n
	}
	return out
}

// waitDrained polls until the proxy's ClickHouse backlog is 0 and the stored
// row count of event is stable, and returns how long that took.
func waitDrained(t *testing.T, base string, c *chReader, event string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	last := int64(-1)
	var lastErr error
	for time.Now().Before(deadline) {
		backlog, err := metric(base, backlogMetric)
		if err == nil && backlog == 0 {
			rows, qerr := c.query(fmt.Sprintf("SELECT count() FROM hogsend.user_events WHERE event = '%s'", event))
			if qerr == nil && len(rows) == 1 {
				n, _ := strconv.ParseInt(rows[0][0], 10, 64)
				if n == last {
					return time.Since(start)
				}
				last = n
			}
			err = qerr
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("spool not drained into clickhouse within %s (last error %v)", timeout, lastErr)
	return 0
}

// checkExactlyOnce asserts that every acknowledged event is stored exactly
// once after FINAL, that no id appears twice, that no event answered with an
// HTTP error status was stored, and that any stored event that was not
// acknowledged was in flight (transport error). It returns the stored pairs
// and the number of stored-but-unacknowledged ("extra") events.
func checkExactlyOnce(t *testing.T, c *chReader, event string, outcomes []outcome) (stored map[pair]int, extra int) {
	t.Helper()
	byPair := make(map[pair]outcome, len(outcomes))
	for _, o := range outcomes {
		byPair[pair{o.W, o.Seq}] = o
	}
	stored = c.storedPairs(event)
	missing, dup, refusedStored, unknown := 0, 0, 0, 0
	for _, o := range outcomes {
		if o.acked() && stored[pair{o.W, o.Seq}] == 0 {
			if missing < 10 {
				t.Errorf("acknowledged event w=%d seq=%d (answered %s) is not stored", o.W, o.Seq, o.End.Format("15:04:05.000"))
			}
			missing++
		}
	}
	for p, n := range stored {
		if n != 1 {
			if dup < 10 {
				t.Errorf("event w=%d seq=%d stored %d times after FINAL", p.W, p.Seq, n)
			}
			dup++
		}
		o, ok := byPair[p]
		switch {
		case !ok:
			unknown++
			t.Errorf("stored event w=%d seq=%d was never sent", p.W, p.Seq)
		case o.acked():
		case o.Status == 0:
			extra++ // in flight when the proxy died: may or may not be stored
		default:
			if refusedStored < 10 {
				t.Errorf("event w=%d seq=%d was answered %d %q but is stored", p.W, p.Seq, o.Status, o.Body)
			}
			refusedStored++
		}
	}
	if missing+dup+refusedStored+unknown > 0 {
		t.Errorf("missing=%d duplicated=%d refused-but-stored=%d unknown=%d", missing, dup, refusedStored, unknown)
	}
	rows := c.count(fmt.Sprintf("SELECT count() FROM hogsend.user_events FINAL WHERE event = '%s'", event))
	ids := c.count(fmt.Sprintf("SELECT count(DISTINCT id) FROM hogsend.user_events FINAL WHERE event = '%s'", event))
	twice := c.count(fmt.Sprintf("SELECT count() FROM (SELECT id FROM hogsend.user_events FINAL WHERE event = '%s' GROUP BY id HAVING count() > 1)", event))
	if twice != 0 || rows != ids {
		t.Errorf("after FINAL: %d rows, %d distinct ids, %d ids more than once", rows, ids, twice)
	}
	acked := 0
	for _, o := range outcomes {
		if o.acked() {
			acked++
		}
	}
	if int(ids) != acked+extra {
		t.Errorf("count(DISTINCT id) = %d, want acknowledged %d + in-flight extra %d", ids, acked, extra)
	}
	return stored, extra
}

// waitAccepted polls /metrics until the proxy has accepted at least n native
// events, so a test breaks it under load rather than after a fixed time.
func waitAccepted(t *testing.T, base string, n float64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := metric(base, `hogsend_events_accepted_total{api="native"}`)
		if err == nil && got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("proxy accepted %v native events within 60s, want %v (last error %v)", got, n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLogged polls the proxy's log until it holds line, so a test waits for
// what the proxy did rather than for an amount of traffic that may pass
// before it did it.
func waitLogged(t *testing.T, p *proxyProc, line string, timeout time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.logs.String(), line) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// waitUnanswered waits until the load's clients have had n sends without an
// HTTP answer.
func waitUnanswered(t *testing.T, l *loadGen, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for l.unanswered.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d sends without an answer within 30s, want %d", l.unanswered.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
