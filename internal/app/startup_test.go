package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/hogsend/hogsend-proxy/config"
	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/sinks/clickhouse"
)

// startUnkeyed starts the service without minting a key, which needs the
// identity store. Its log goes to logs as well when logs is not nil.
func startUnkeyed(t *testing.T, cfg config.Config, logs *syncBuffer) *harness {
	t.Helper()
	log := testLogger()
	if logs != nil {
		log = slog.New(slog.NewTextHandler(io.MultiWriter(logs, os.Stderr), &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	a, err := Start(context.Background(), cfg, log, "test")
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	h := &harness{t: t, app: a, cfg: cfg, base: "http://" + a.Addr(), admin: testAdminKey,
		http: &http.Client{Timeout: 30 * time.Second}}
	t.Cleanup(func() { h.stop() })
	return h
}

// wantNotReady asserts /readyz is 503 with check failing.
func wantNotReady(t *testing.T, h *harness, check string) {
	t.Helper()
	rz := h.do("GET", "/readyz", "", "", "")
	if rz.status != 503 || !strings.Contains(string(rz.body), `"`+check+`":{"ok":false`) {
		t.Fatalf("readyz: %d %s; want 503 naming %s", rz.status, rz.body, check)
	}
}

// TestClickHouseLateAtStart: with nothing listening on ClickHouse's port the
// proxy starts, acknowledges into the spool and names clickhouse in /readyz;
// once the server comes up it migrates and drains, and every row is there.
func TestClickHouseLateAtStart(t *testing.T) {
	redis := testenv.Redis(t)
	ch := testenv.NewClickHouse(t)
	cfg := baseConfig(t, t.TempDir())
	cfg.RedisURL = redis.RedisURL()
	cfg.ClickHouseURL = ch.ClickHouseURL("hogsend")
	logs := &syncBuffer{}
	h := startUnkeyed(t, cfg, logs)
	started := time.Now()
	wantNotReady(t, h, "clickhouse")
	h.key = h.mintKey("late-clickhouse", []string{"ingest"}, "")
	for i := 0; i < 40; i++ {
		body := `{"name":"late.ch","userId":"u_late_` + strconv.Itoa(i%4) + `","eventProperties":{"i":` + strconv.Itoa(i) + `}}`
		if r := h.json("POST", "/v1/events", body); r.status != 202 {
			t.Fatalf("event %d before clickhouse is up: %d %s", i, r.status, r.body)
		}
	}
	if h.app.Reader.Backlog() == 0 {
		t.Fatal("nothing waits in the spool although clickhouse never answered")
	}
	ch.Start(60 * time.Second)
	up := time.Now()
	if n := h.count("SELECT count() FROM user_events FINAL WHERE event = 'late.ch'"); n != 40 {
		t.Fatalf("events after clickhouse came up = %d, want 40", n)
	}
	t.Logf("clickhouse up %s after start: 40 events acknowledged before, drained %s after it listened",
		up.Sub(started).Round(time.Millisecond), time.Since(up).Round(time.Millisecond))
	if n := h.count("SELECT uniqExact(id) FROM user_events WHERE event = 'late.ch'"); n != 40 {
		t.Fatalf("distinct events = %d, want 40", n)
	}
	if n := h.count("SELECT count() FROM contacts FINAL WHERE startsWith(external_id, 'u_late_')"); n != 4 {
		t.Fatalf("contacts = %d, want 4", n)
	}
	if n := h.count("SELECT count() FROM api_keys FINAL WHERE name = 'late-clickhouse'"); n != 1 {
		t.Fatalf("api keys = %d, want 1", n)
	}
	h.waitReady(t)
	wantLogged(t, logs, "clickhouse not reachable yet", 1)
	wantLogged(t, logs, "clickhouse answered: tables migrated", 1)

	// Down again while serving: the writer logs the outage's start and
	// end, not each of its retries.
	ch.Kill()
	for i := 0; i < 5; i++ {
		if r := h.json("POST", "/v1/events", `{"name":"late.ch.again","userId":"u_late_0"}`); r.status != 202 {
			t.Fatalf("event with clickhouse down again: %d %s", r.status, r.body)
		}
	}
	waitUntil(t, "four failed inserts", 20*time.Second, func() bool { return h.app.Writer.Errors() >= 4 })
	ch.Start(60 * time.Second)
	if n := h.count("SELECT count() FROM user_events FINAL WHERE event = 'late.ch.again'"); n != 5 {
		t.Fatalf("events after the second outage = %d, want 5", n)
	}
	wantLogged(t, logs, "clickhouse writer: insert failed", 1)
	wantLogged(t, logs, "clickhouse writer: insert succeeded after failures", 1)
}

// wantLogged asserts that msg was logged n times.
func wantLogged(t *testing.T, logs *syncBuffer, msg string, n int) {
	t.Helper()
	if got := strings.Count(logs.String(), msg); got != n {
		t.Fatalf("%q logged %d times, want %d:\n%s", msg, got, n, logs.String())
	}
}

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRedisLateAtStart: with nothing listening on Redis's port the proxy
// starts; identity routes answer 503 + Retry-After and /readyz names
// identity; once Redis comes up the same process stores, with the scripts
// loaded by the first connection rather than one NOSCRIPT fallback at a time.
func TestRedisLateAtStart(t *testing.T) {
	ch := testenv.ClickHouse(t)
	redis := testenv.NewRedis(t)
	goredis.SetLogger(quietLogger{})
	cfg := baseConfig(t, t.TempDir())
	cfg.RedisURL = redis.RedisURL()
	cfg.ClickHouseURL = ch.ClickHouseURL("hogsend")
	h := startUnkeyed(t, cfg, nil)
	event := func(key, user string) response {
		return h.do("POST", "/v1/events", key, "application/json", `{"name":"late.redis","userId":"`+user+`"}`)
	}
	for i := 0; i < 5; i++ {
		if r := event(h.admin, "u_refused"); r.status != 503 || r.header.Get("Retry-After") == "" {
			t.Fatalf("event with redis never up: %d %v %s; want 503 with Retry-After", r.status, r.header, r.body)
		}
	}
	wantNotReady(t, h, "identity")

	redis.Start(15 * time.Second)
	up := time.Now()
	var r response
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if r = event(h.admin, "u_after"); r.status == 202 {
			break
		}
	}
	if r.status != 202 {
		t.Fatalf("no 202 after redis came up: %d %s", r.status, r.body)
	}
	t.Logf("first 202 %s after redis listened", time.Since(up).Round(time.Millisecond))
	h.key = h.mintKey("late-redis", []string{"ingest"}, "")
	if r := event(h.key, "u_after"); r.status != 202 {
		t.Fatalf("event with a key minted after redis came up: %d %s", r.status, r.body)
	}
	if n := h.count("SELECT count() FROM user_events FINAL WHERE event = 'late.redis' AND user_id = 'u_after'"); n != 2 {
		t.Fatalf("stored events = %d, want 2", n)
	}
	if n := h.count("SELECT count() FROM user_events FINAL WHERE user_id = 'u_refused'"); n != 0 {
		t.Fatalf("refused events stored: %d", n)
	}
	calls := redisCalls(t, redis)
	if calls["script|load"] == 0 || calls["eval"] != 0 {
		t.Fatalf("script loads %d, eval fallbacks %d; want the scripts loaded on connect", calls["script|load"], calls["eval"])
	}
}

// redisCalls is the number of calls of each command the server has served.
func redisCalls(t *testing.T, p *testenv.Process) map[string]int64 {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: p.Addr})
	defer c.Close()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatalf("info commandstats: %v", err)
	}
	calls := map[string]int64{}
	for _, st := range testenv.ParseRedisCommandStats(info) {
		calls[st.Name] = st.Calls
	}
	return calls
}

// quietLogger drops go-redis's line per failed dial, which is the point here.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// TestStuckStartStageIsAbandoned: an embedded open that never returns ends
// the start with an error naming it and the bound, instead of a hang.
func TestStuckStartStageIsAbandoned(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	b, err := withinBound(50*time.Millisecond, "open and migrate embedded clickhouse under /data", func() (clickhouse.Backend, error) {
		<-release
		return nil, errors.New("too late")
	})
	if b != nil || err == nil || err.Error() != "open and migrate embedded clickhouse under /data: no answer within 50ms" {
		t.Fatalf("stuck open: %v, %v", b, err)
	}
	b, err = withinBound(time.Minute, "open", func() (clickhouse.Backend, error) {
		return nil, errors.New("refused")
	})
	if b != nil || err == nil || err.Error() != "refused" {
		t.Fatalf("failed open: %v, %v", b, err)
	}
}
