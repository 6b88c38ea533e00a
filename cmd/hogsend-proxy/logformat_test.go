package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// TestJSONLogs: with HOGSEND_LOG_FORMAT=json every line serve writes to
// stderr, from start to shutdown, is one JSON object with time, level and msg.
func TestJSONLogs(t *testing.T) {
	bin := buildBinary(t)
	redis := testenv.Redis(t)
	ch := testenv.ClickHouse(t)
	port := testenv.FreePort(t)
	env := []string{
		"HOGSEND_REDIS_URL=" + redis.RedisURL(),
		"HOGSEND_CLICKHOUSE_URL=" + ch.ClickHouseURL("hogsend"),
		"HOGSEND_DATA_DIR=" + t.TempDir(),
		fmt.Sprintf("HOGSEND_LISTEN=127.0.0.1:%d", port),
		"HOGSEND_LOG_FORMAT=json",
		"HOGSEND_LOG_LEVEL=debug",
	}
	if out, errOut, code := run(t, bin, env, "migrate"); code != 0 {
		t.Fatalf("migrate: exit %d %s %s", code, out, errOut)
	}
	srv := exec.Command(bin, "serve")
	srv.Env = append(os.Environ(), env...)
	var logs bytes.Buffer
	srv.Stderr = &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	waitReady(t, fmt.Sprintf("http://127.0.0.1:%d", port))
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

	lines := strings.Split(strings.TrimRight(logs.String(), "\n"), "\n")
	if len(lines) < 2 {
		t.Fatalf("serve logged %d lines, want its start and its shutdown:\n%s", len(lines), logs.String())
	}
	var shutdown bool
	for i, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %d is not a JSON object: %q", i+1, line)
		}
		if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(rec["time"])); err != nil {
			t.Errorf("line %d: time %v: %v", i+1, rec["time"], err)
		}
		if lv := fmt.Sprint(rec["level"]); lv != "DEBUG" && lv != "INFO" && lv != "WARN" && lv != "ERROR" {
			t.Errorf("line %d: level %q", i+1, lv)
		}
		if msg, _ := rec["msg"].(string); msg == "" {
			t.Errorf("line %d has no msg: %q", i+1, line)
		}
		if n, ok := rec["spool_backlog_bytes"].(float64); ok && n == 0 {
			shutdown = true // an attribute, not text inside msg
		}
	}
	if !shutdown {
		t.Fatalf("no line carries spool_backlog_bytes as a JSON attribute:\n%s", logs.String())
	}
}
