package faulttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/sinks/clickhouse"
)

// failedStart runs `serve` with env, expecting it to give up: exit status 1
// and one stderr line, "hogsend-proxy: …" containing each of want, with no
// panic or goroutine dump.
func failedStart(t *testing.T, name string, env []string, want ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, proxyBinary(t), "serve")
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("%s: %v, want exit status 1\nstderr:\n%s", name, err, stderr.String())
	}
	out := stderr.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "hogsend-proxy: ") {
		t.Fatalf("%s: stderr is %d lines, want one \"hogsend-proxy: …\" line:\n%s", name, len(lines), out)
	}
	if strings.Contains(out, "panic") || strings.Contains(out, "goroutine") {
		t.Fatalf("%s: a panic or goroutine dump:\n%s", name, out)
	}
	for _, w := range want {
		if !strings.Contains(lines[0], w) {
			t.Fatalf("%s: %q does not name %q", name, lines[0], w)
		}
	}
	t.Logf("%s: %s", name, lines[0])
}

// listenEnv is a free port for HOGSEND_LISTEN, so that no case fails on the
// default 127.0.0.1:8080 being taken.
func listenEnv(t *testing.T) string {
	return fmt.Sprintf("HOGSEND_LISTEN=127.0.0.1:%d", testenv.FreePort(t))
}

// TestStartupFailuresAreOneLine: each way the start can fail before a
// dependency is involved ends with one line naming the setting.
func TestStartupFailuresAreOneLine(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	failedStart(t, "bad config value", []string{listenEnv(t), "HOGSEND_DATA_DIR=" + t.TempDir(),
		"HOGSEND_MAX_CONNS=lots"}, "HOGSEND_MAX_CONNS")
	failedStart(t, "unusable data dir", []string{listenEnv(t), "HOGSEND_DATA_DIR=" + filepath.Join(file, "data")},
		"HOGSEND_DATA_DIR", "not a directory")
	failedStart(t, "embedded without libchdb", []string{listenEnv(t), "HOGSEND_DATA_DIR=" + t.TempDir(),
		"HOGSEND_CHDB_LIB=" + filepath.Join(dir, "nowhere", "libchdb.so")}, "HOGSEND_CHDB_LIB")
	failedStart(t, "embedded with a file that is no libchdb", []string{listenEnv(t), "HOGSEND_DATA_DIR=" + t.TempDir(),
		"HOGSEND_CHDB_LIB=" + file}, "HOGSEND_CHDB_LIB")
	failedStart(t, "port in use", []string{"HOGSEND_LISTEN=" + held.Addr().String(), "HOGSEND_DATA_DIR=" + t.TempDir()},
		"HOGSEND_LISTEN", "address already in use")
}

// TestSecondInstanceOnADataDirIsOneLine: a second process on a data directory
// in use fails on the spool lock with one line, and the first keeps serving.
// The first runs in server mode against ports where nothing listens: that
// alone must not stop it.
func TestSecondInstanceOnADataDirIsOneLine(t *testing.T) {
	dataDir := t.TempDir()
	port := testenv.FreePort(t)
	env := []string{
		fmt.Sprintf("HOGSEND_REDIS_URL=redis://127.0.0.1:%d/0", testenv.FreePort(t)),
		fmt.Sprintf("HOGSEND_CLICKHOUSE_URL=clickhouse://127.0.0.1:%d/hogsend", testenv.FreePort(t)),
		"HOGSEND_DATA_DIR=" + dataDir,
		"HOGSEND_SHUTDOWN_TIMEOUT=1s",
	}
	first := exec.Command(proxyBinary(t), "serve")
	first.Env = append(append(os.Environ(), env...), fmt.Sprintf("HOGSEND_LISTEN=127.0.0.1:%d", port))
	logs := &logBuffer{}
	first.Stderr = logs
	first.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- first.Wait() }()
	defer func() {
		first.Process.Signal(syscall.SIGTERM)
		if err := <-done; err != nil {
			t.Errorf("first instance after SIGTERM: %v\n%s", err, logs.String())
		}
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitStatus(t, base+"/healthz", 200, done, logs)
	if status, body, err := httpGet(base + "/readyz"); err != nil || status != 503 ||
		!strings.Contains(body, `"identity":{"ok":false`) || !strings.Contains(body, `"clickhouse":{"ok":false`) {
		t.Fatalf("readyz with neither dependency up: %d %s %v", status, body, err)
	}

	failedStart(t, "second instance on the data dir", append(env, listenEnv(t)), "HOGSEND_DATA_DIR", "lock")
	if status, _, err := httpGet(base + "/healthz"); err != nil || status != 200 {
		t.Fatalf("first instance after the second gave up: %d %v", status, err)
	}
}

// waitStatus polls url until it answers status, failing if the process
// behind it exits first.
func waitStatus(t *testing.T, url string, status int, exited <-chan error, logs *logBuffer) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("exited during start-up: %v\n%s", err, logs.String())
		default:
		}
		if got, _, err := httpGet(url); err == nil && got == status {
			return
		}
	}
	t.Fatalf("%s did not answer %d within 30s\n%s", url, status, logs.String())
}

// TestRefusingDependenciesAreOneLine: a dependency that answers and refuses
// (not one that is not up yet) stops the start with one line naming it.
func TestRefusingDependenciesAreOneLine(t *testing.T) {
	redis := testenv.Redis(t)
	ch := testenv.ClickHouse(t)
	env := func(redisURL, chURL string) []string {
		return []string{listenEnv(t), "HOGSEND_DATA_DIR=" + t.TempDir(),
			"HOGSEND_REDIS_URL=" + redisURL, "HOGSEND_CLICKHOUSE_URL=" + chURL}
	}
	failedStart(t, "clickhouse refuses the user", env(redis.RedisURL(), "clickhouse://nobody@"+ch.Addr+"/hogsend"),
		"migrate clickhouse", "nobody")
	failedStart(t, "redis has no such database", env("redis://"+redis.Addr+"/99", ch.ClickHouseURL("hogsend")),
		"HOGSEND_REDIS_URL", "DB index")
}

// TestEmbeddedMigrationFailureIsOneLine: a migration the embedded engine
// fails at start (here a schema_migrations table whose versions are not
// numbers) ends the start with one line, not a hang or a panic.
func TestEmbeddedMigrationFailureIsOneLine(t *testing.T) {
	lib := os.Getenv("CHDB_LIB_PATH")
	if _, err := os.Stat(lib); lib == "" || err != nil {
		testenv.Unavailable(t, "libchdb.so not found (CHDB_LIB_PATH) for the embedded mode")
	}
	dataDir := t.TempDir()
	// The binary keeps its engine in <data dir>/clickhouse/clickhouse.
	e, err := clickhouse.OpenEmbedded(filepath.Join(dataDir, "clickhouse"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		"CREATE TABLE hogsend.schema_migrations (version String, name String, applied_at DateTime) ENGINE = MergeTree ORDER BY version",
		"INSERT INTO hogsend.schema_migrations VALUES ('not-a-version', 'broken', now())",
	} {
		if _, err := e.Query(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	e.Close()
	failedStart(t, "embedded migration fails", []string{listenEnv(t), "HOGSEND_DATA_DIR=" + dataDir},
		"migrate clickhouse", "not-a-version")
}
