package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// fillDisk writes a file in dir until the file system is full and returns
// its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, size := range []int{64 << 10, 4 << 10, 1} {
		chunk := make([]byte, size)
		for {
			if _, err := f.Write(chunk); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("fill %s: %v", dir, err)
				}
				break
			}
		}
	}
	return path
}

// TestDiskFullOverHTTP: with the data directory's disk full, a native event
// and a PostHog capture get 503 + Retry-After: 1 and add nothing to the
// spool; the process stays ready to serve, and once space is freed their
// retries (same idempotency key, same uuid) are stored once.
func TestDiskFullOverHTTP(t *testing.T) {
	cfg, _, _ := serverConfig(t)
	cfg.DataDir = testenv.MountTmpfs(t, "4m")
	h := startHarness(t, cfg)
	const uuid = "0190e0a0-0000-7000-8000-0000000000f1"
	pad := strings.Repeat("p", 16<<10) // more than any page left in a segment's tail
	native := `{"name":"disk.native","userId":"u_disk","eventProperties":{"pad":"` + pad + `"}}`
	capture := `{"api_key":"phc_x","batch":[{"event":"disk.capture","distinct_id":"d-disk","uuid":"` + uuid + `","properties":{"pad":"` + pad + `"}}]}`
	if r := h.json("POST", "/v1/events", `{"name":"disk.before","userId":"u_disk"}`); r.status != 202 {
		t.Fatalf("before the disk filled: %d %s", r.status, r.body)
	}

	filler := fillDisk(t, cfg.DataDir)
	before := metricValue(t, h, "hogsend_spool_bytes")
	refused := []response{
		h.json("POST", "/v1/events", native, "Idempotency-Key", "disk-key"),
		h.do("POST", "/batch/", "", "application/json", capture),
	}
	assertNotAcknowledged(t, "on a full disk", refused)
	if after := metricValue(t, h, "hogsend_spool_bytes"); after != before {
		t.Fatalf("hogsend_spool_bytes went from %v to %v on a full disk: a refusal must write nothing", before, after)
	}
	if r := h.do("GET", "/healthz", "", "", ""); r.status != 200 {
		t.Fatalf("/healthz on a full disk: %d", r.status)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	retryUntilAccepted(t, h, "native retry", func() response {
		return h.json("POST", "/v1/events", native, "Idempotency-Key", "disk-key")
	}, 202, `"stored":true`)
	retryUntilAccepted(t, h, "capture retry", func() response {
		return h.do("POST", "/batch/", "", "application/json", capture)
	}, 200, `"status":"Ok"`)
	for _, q := range []string{
		"SELECT count() FROM user_events WHERE event = 'disk.native'",
		"SELECT count() FROM user_events WHERE event = 'disk.capture' AND toString(id) = '" + uuid + "'",
	} {
		if n := h.count(q); n != 1 {
			t.Fatalf("%s = %d, want 1", q, n)
		}
	}
}
