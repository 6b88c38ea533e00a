package proxy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/ingest"
)

// TestReadyzHidesErrors: unauthenticated /readyz names each failing
// dependency without its error text; the admin key sees the text; a flood
// of probes runs the checks once per second.
func TestReadyzHidesErrors(t *testing.T) {
	var runs atomic.Int64
	down := errors.New("dial tcp 10.1.2.3:6379: connect: connection refused")
	checks := []Check{
		{Name: "identity", Fn: func(context.Context) error { runs.Add(1); return fmt.Errorf("ping redis://10.1.2.3:6379: %w", down) }},
		{Name: "spool", Fn: func(context.Context) error { return nil }, Detail: func() string { return "backlog 0 bytes" }},
	}
	ts := newTestServer(t, Options{Checks: checks}, nil, nil)
	f := func(headers []string, want string) {
		t.Helper()
		r := ts.do("GET", "/readyz", "", headers...)
		if r.status != 503 || r.body != want {
			t.Fatalf("readyz %v: %d %s\nwant %s", headers, r.status, r.body, want)
		}
	}
	public := `{"checks":{"identity":{"ok":false},"spool":{"ok":true,"detail":"backlog 0 bytes"}},"status":"unavailable"}`
	f(nil, public)
	f([]string{"Authorization: Bearer wrong-key"}, public)
	f([]string{"Authorization: Bearer "}, public)
	f([]string{"Authorization: Bearer " + testAdminKey},
		`{"checks":{"identity":{"ok":false,"error":"ping redis://10.1.2.3:6379: dial tcp 10.1.2.3:6379: connect: connection refused"},"spool":{"ok":true,"detail":"backlog 0 bytes"}},"status":"unavailable"}`)
	for i := 0; i < 50; i++ {
		ts.do("GET", "/readyz", "")
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("54 probes within a second ran the checks %d times, want 1", n)
	}
}

// TestUnavailableNamesDependency: a 503 says which dependency failed, never
// the error behind it (paths, addresses).
func TestUnavailableNamesDependency(t *testing.T) {
	journal := &memJournal{fail: errors.New("write /var/lib/hogsend/spool/000001.log: no space left on device")}
	ts := newTestServer(t, Options{}, journal, nil)
	f := func(path, body, want string) {
		t.Helper()
		r := ts.do("POST", path, body, "Content-Type: application/json", "Authorization: Bearer "+testAdminKey)
		if r.status != 503 || r.header["Retry-After"] != "1" || r.body != want {
			t.Fatalf("%s: %d %v %s", path, r.status, r.header, r.body)
		}
		if strings.Contains(r.body, "/var/lib") {
			t.Fatalf("%s: the spool path leaked: %s", path, r.body)
		}
	}
	f("/v1/events", `{"name":"e","userId":"u1"}`, `{"error":"spool unavailable: request not made durable"}`)
	f("/batch/", captureBody, `{"type":"server_error","code":"unavailable","detail":"spool unavailable: request not made durable"}`)
}

// TestUnavailableReason: each 503 cause maps to the dependency's name,
// however deeply it is wrapped.
func TestUnavailableReason(t *testing.T) {
	f := func(err error, want string) {
		t.Helper()
		if got := unavailableReason(err); got != want {
			t.Fatalf("%v: %q, want %q", err, got, want)
		}
	}
	f(fmt.Errorf("%w: dial redis://10.0.0.1:6379", identity.ErrUnavailable), "identity store unavailable")
	f(fmt.Errorf("capture: %w", fmt.Errorf("%w: write /data/spool: EIO", ingest.ErrNotDurable)), "spool unavailable: request not made durable")
	f(ingest.ErrClaimPending, ingest.ErrClaimPending.Error())
	f(errors.New("dial tcp 10.0.0.1:9000"), "service unavailable")
}
