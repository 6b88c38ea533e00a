package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/config"
	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

const (
	testAdminKey        = "test-admin-key-0123456789"
	testUserTokenSecret = "test-user-token-secret"
)

// harness is a running service plus helpers to call it and read ClickHouse.
type harness struct {
	t     *testing.T
	app   *App
	cfg   config.Config
	base  string
	admin string
	key   string // an ingest key minted through the admin API
	http  *http.Client
}

func testLogger() *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("HOGSEND_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

func baseConfig(t *testing.T, dataDir string) config.Config {
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	cfg.DataDir = dataDir
	cfg.AdminAPIKey = testAdminKey
	cfg.UserTokenSecret = testUserTokenSecret
	cfg.BatchDelay = 50 * time.Millisecond
	cfg.ShutdownTimeout = 10 * time.Second
	return cfg
}

// serverConfig points at fresh redis-server and clickhouse-server processes.
func serverConfig(t *testing.T) (config.Config, *testenv.Process, *testenv.Process) {
	redis := testenv.Redis(t)
	ch := testenv.ClickHouse(t)
	cfg := baseConfig(t, t.TempDir())
	cfg.RedisURL = redis.RedisURL()
	cfg.ClickHouseURL = ch.ClickHouseURL("hogsend")
	return cfg, redis, ch
}

func startHarness(t *testing.T, cfg config.Config) *harness {
	t.Helper()
	a, err := Start(context.Background(), cfg, testLogger(), "test")
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	h := &harness{t: t, app: a, cfg: cfg, base: "http://" + a.Addr(), admin: testAdminKey,
		http: &http.Client{Timeout: 30 * time.Second}}
	t.Cleanup(func() { h.stop() })
	h.key = h.mintKey("ingest-key", []string{"ingest"}, "")
	return h
}

func (h *harness) stop() {
	if h.app != nil {
		h.app.Shutdown(10 * time.Second)
		h.app = nil
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d is not a JSON object: %q", r.status, r.body)
	}
	return m
}

// do sends a request; contentType "" sends none.
func (h *harness) do(method, path, key, contentType, body string, headers ...string) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.base+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (h *harness) json(method, path, body string, headers ...string) response {
	h.t.Helper()
	return h.do(method, path, h.key, "application/json", body, headers...)
}

func (h *harness) mintKey(name string, scopes []string, expiresAt string) string {
	h.t.Helper()
	body := map[string]any{"name": name, "scopes": scopes}
	if expiresAt != "" {
		body["expiresAt"] = expiresAt
	}
	b, _ := json.Marshal(body)
	r := h.do("POST", "/v1/admin/api-keys", h.admin, "application/json", string(b))
	if r.status != 201 {
		h.t.Fatalf("mint key: %d %s", r.status, r.body)
	}
	return r.json(h.t)["key"].(string)
}

// rows waits for the writer to drain the spool, then queries ClickHouse.
func (h *harness) rows(sql string) [][]string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.app.WaitDrained(ctx); err != nil {
		h.t.Fatalf("drain: %v", err)
	}
	out, err := h.app.Backend.Query(ctx, sql)
	if err != nil {
		h.t.Fatalf("query %q: %v", sql, err)
	}
	return out
}

func (h *harness) count(sql string) int {
	h.t.Helper()
	r := h.rows(sql)
	n, err := strconv.Atoi(r[0][0])
	if err != nil {
		h.t.Fatalf("count %q: %q", sql, r)
	}
	return n
}

func jsonBody(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return strings.TrimSpace(buf.String())
}

// waitReady polls /readyz until it answers 200: its checks are cached for a
// second, so a recovery shows within that, not at once.
func (h *harness) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := h.do("GET", "/readyz", "", "", "")
		if r.status == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz not ready within 5s: %d %s", r.status, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
