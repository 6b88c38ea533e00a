package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// The binary's operator interface is a contract: these tests run the real
// binary as an operator would.

// proxyBin is the binary under test, built once for the package.
var proxyBin = testenv.ProxyBinary{Version: "v-test"}

func TestMain(m *testing.M) {
	code := m.Run()
	proxyBin.Remove()
	os.Exit(code)
}

func buildBinary(t *testing.T) string { return proxyBin.Path(t) }

func run(t *testing.T, bin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

func TestVersionAndBadConfig(t *testing.T) {
	bin := buildBinary(t)
	out, _, code := run(t, bin, nil, "version")
	if code != 0 || strings.TrimSpace(out) != "hogsend-proxy v-test" {
		t.Fatalf("version = %q (exit %d)", out, code)
	}
	_, errOut, code := run(t, bin, []string{"HOGSEND_IDEMPOTENCY_WINDOW=forever"}, "serve")
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if code == 0 || len(lines) != 1 || !strings.Contains(lines[0], "HOGSEND_IDEMPOTENCY_WINDOW") {
		t.Fatalf("bad config: exit %d, stderr %q; want one line naming the variable", code, errOut)
	}
	_, errOut, code = run(t, bin, nil, "frobnicate")
	if code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown command: exit %d %q", code, errOut)
	}
}

// TestServerModeOperator: migrate twice, mint a key with the CLI, serve, use
// the key, SIGTERM exits 0 with nothing left in the spool.
func TestServerModeOperator(t *testing.T) {
	bin := buildBinary(t)
	redis := testenv.Redis(t)
	ch := testenv.ClickHouse(t)
	port := testenv.FreePort(t)
	env := []string{
		"HOGSEND_REDIS_URL=" + redis.RedisURL(),
		"HOGSEND_CLICKHOUSE_URL=" + ch.ClickHouseURL("hogsend"),
		"HOGSEND_DATA_DIR=" + t.TempDir(),
		fmt.Sprintf("HOGSEND_LISTEN=127.0.0.1:%d", port),
		"HOGSEND_SHUTDOWN_TIMEOUT=15s",
	}
	for i := 0; i < 2; i++ {
		if out, errOut, code := run(t, bin, env, "migrate"); code != 0 {
			t.Fatalf("migrate #%d: exit %d %s %s", i+1, code, out, errOut)
		}
	}
	key, errOut, code := run(t, bin, env, "keys", "create", "--name", "cli", "--scopes", "ingest,read")
	key = strings.TrimSpace(key)
	if code != 0 || !strings.HasPrefix(key, "hsk_") || len(key) != 47 {
		t.Fatalf("keys create: exit %d key %q stderr %q", code, key, errOut)
	}
	if _, _, code := run(t, bin, env, "keys", "create", "--name", "x", "--scopes", "superuser"); code == 0 {
		t.Fatal("unknown scope accepted")
	}

	srv := exec.Command(bin, "serve")
	srv.Env = append(os.Environ(), env...)
	var logs bytes.Buffer
	srv.Stderr = &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitReady(t, base)
	for i := 0; i < 20; i++ {
		body := fmt.Sprintf(`{"name":"cli.event","userId":"u%d"}`, i)
		req, _ := http.NewRequest("POST", base+"/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 202 {
			t.Fatalf("event with CLI key: %d %s", resp.StatusCode, b)
		}
	}
	srv.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		srv.Process.Kill()
		t.Fatalf("serve did not exit within the shutdown bound\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "spool_backlog_bytes=0") {
		t.Fatalf("shutdown left a backlog:\n%s", logs.String())
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("not ready at %s", base)
}

// TestEmbeddedModeOperator: with no servers configured, a key minted by the
// CLI works after start and after a restart; minting while serving is refused
// with a clear message instead of corrupting the data directory.
func TestEmbeddedModeOperator(t *testing.T) {
	if p := os.Getenv("CHDB_LIB_PATH"); p == "" {
		testenv.Unavailable(t, "libchdb (CHDB_LIB_PATH) for the embedded mode")
	}
	bin := buildBinary(t)
	port := testenv.FreePort(t)
	env := []string{"HOGSEND_DATA_DIR=" + t.TempDir(), fmt.Sprintf("HOGSEND_LISTEN=127.0.0.1:%d", port)}
	key, errOut, code := run(t, bin, env, "keys", "create", "--name", "cli", "--scopes", "ingest")
	key = strings.TrimSpace(key)
	if code != 0 || !strings.HasPrefix(key, "hsk_") {
		t.Fatalf("keys create: exit %d %q %q", code, key, errOut)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	serve := func() *exec.Cmd {
		srv := exec.Command(bin, "serve")
		srv.Env = append(os.Environ(), env...)
		srv.Stderr = os.Stderr
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		waitReady(t, base)
		return srv
	}
	stop := func(srv *exec.Cmd) {
		srv.Process.Signal(syscall.SIGTERM)
		if err := srv.Wait(); err != nil {
			t.Fatalf("serve exit: %v", err)
		}
	}
	upsert := func() (int, string) {
		req, _ := http.NewRequest("PUT", base+"/v1/contacts", strings.NewReader(`{"email":"cli@example.com"}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	srv := serve()
	status, body := upsert()
	if status != 200 || !strings.Contains(body, `"created":true`) {
		t.Fatalf("first upsert: %d %s", status, body)
	}
	if _, errOut, code := run(t, bin, env, "keys", "create", "--name", "busy"); code == 0 || !strings.Contains(errOut, "serving on this data directory") {
		t.Fatalf("keys create while serving: exit %d %q", code, errOut)
	}
	stop(srv)
	srv = serve()
	defer stop(srv)
	status, body = upsert()
	if status != 200 || !strings.Contains(body, `"created":false`) {
		t.Fatalf("upsert after restart: %d %s", status, body)
	}
}
