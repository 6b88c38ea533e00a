package proxy

import (
	"bytes"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
)

// TestServerLogBounded: a client's broken connection is logged at debug and
// cut short, and fasthttp's warnings come at most once a second.
func TestServerLogBounded(t *testing.T) {
	var out bytes.Buffer
	l := fasthttpLog{
		log:      slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})),
		lastWarn: new(atomic.Int64),
	}
	garbage := strings.Repeat("\xff", 4096)
	l.Printf("error when serving connection %q<->%q: %v", "a", "b", garbage)
	l.Printf("The number of connections from %s exceeds MaxConnsPerIP=%d", "10.0.0.1", 2)
	l.Printf("The number of connections from %s exceeds MaxConnsPerIP=%d", "10.0.0.2", 2)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines: %q", len(lines), out.String())
	}
	f := func(line, level string, maxLen int) {
		t.Helper()
		if !strings.Contains(line, "level="+level) || len(line) > maxLen {
			t.Fatalf("want level %s within %d bytes: %q", level, maxLen, line)
		}
	}
	f(lines[0], "DEBUG", 2048)
	f(lines[1], "WARN", 512)
	f(lines[2], "DEBUG", 512)
}
