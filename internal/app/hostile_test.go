package app

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHostileInput: bad bodies, slow clients and connection floods get clear
// 4xx/408/413/503 answers and leave the process healthy, with no goroutines
// left behind.
func TestHostileInput(t *testing.T) {
	cfg, _, _ := serverConfig(t)
	cfg.MaxBodyBytes = 64 << 10
	cfg.ReadTimeout = time.Second
	cfg.MaxConns = 40
	h := startHarness(t, cfg)
	baseline := goroutines(t, h)
	// The Go runtime's memory, not the process's: an embedded-mode test
	// earlier in this process leaves chDB's threads running, whose memory
	// moves on its own.
	sysBefore := metricValue(t, h, "go_memstats_sys_bytes")
	rssBefore := metricValue(t, h, "process_resident_memory_bytes")

	// Oversized: 413 with a reason.
	big := `{"name":"x","userId":"u","eventProperties":{"pad":"` + strings.Repeat("a", 100<<10) + `"}}`
	wantError(t, h.json("POST", "/v1/events", big), 413, "request body too large")
	// Truncated and wrongly encoded bodies: 400.
	wantError(t, h.json("POST", "/v1/events", `{"name":"x","userId":"u","eventProperties":{"a":`), 400, "Malformed JSON in request body")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"name":"x","userId":"u"}`))
	zw.Close()
	wantError(t, h.do("POST", "/v1/events", h.key, "application/json", gz.String(), "Content-Encoding", "gzip"), 400, "Malformed JSON in request body")
	// Deep nesting is refused before any recursive parsing.
	deep := `{"name":"x","userId":"u","eventProperties":{"a":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}}`
	wantError(t, h.json("POST", "/v1/events", deep), 400, "JSON nested too deeply")
	// Invalid UTF-8 inside a string is repaired to U+FFFD and stored.
	r := h.json("POST", "/v1/events", "{\"name\":\"utf8.bad\",\"userId\":\"u_utf8\",\"eventProperties\":{\"s\":\"a\xff\xfeb\"}}")
	if r.status != 202 {
		t.Fatalf("invalid utf-8: %d %s", r.status, r.body)
	}
	if rows := h.rows("SELECT properties FROM user_events WHERE event = 'utf8.bad'"); len(rows) != 1 || rows[0][0] != "{\"s\":\"a\uFFFD\uFFFDb\"}" {
		t.Fatalf("stored properties = %q", rows)
	}

	// A slow client is cut off after the read timeout with 408.
	c, err := net.Dial("tcp", h.app.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"na"))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	status, _ := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if !strings.Contains(status, "408") {
		t.Fatalf("slow client answer = %q, want 408", status)
	}

	// A flood of idle connections past the limit gets 503, and the service
	// keeps answering once it is over.
	var flood []net.Conn
	refused := 0
	for i := 0; i < 80; i++ {
		fc, err := net.Dial("tcp", h.app.Addr())
		if err != nil {
			t.Fatal(err)
		}
		flood = append(flood, fc)
	}
	for _, fc := range flood {
		fc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		line, _ := bufio.NewReader(fc).ReadString('\n')
		if strings.Contains(line, "503") {
			refused++
		}
	}
	for _, fc := range flood {
		fc.Close()
	}
	if refused < 30 {
		t.Fatalf("connections refused past the limit = %d of 80 (limit 40)", refused)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := h.do("GET", "/healthz", "", "", "")
		if r.status == 200 || time.Now().After(deadline) {
			if r.status != 200 {
				t.Fatalf("healthz after flood: %d", r.status)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := h.json("POST", "/v1/events", `{"name":"after.flood","userId":"u"}`); r.status != 202 {
		t.Fatalf("event after flood: %d %s", r.status, r.body)
	}
	// No goroutine growth once the hostile connections are gone (fasthttp
	// keeps idle workers for 10 s before retiring them).
	var now int
	for i := 0; i < 250; i++ {
		now = goroutines(t, h)
		if now <= baseline+10 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if now > baseline+10 {
		t.Fatalf("goroutines %d after the hostile input, %d before", now, baseline)
	}
	// Memory stays bounded: the limits cap what any request can make us hold.
	sysAfter := metricValue(t, h, "go_memstats_sys_bytes")
	rssAfter := metricValue(t, h, "process_resident_memory_bytes")
	t.Logf("goroutines %d → %d, Go runtime memory %.0f MiB → %.0f MiB, resident memory %.0f MiB → %.0f MiB",
		baseline, now, sysBefore/(1<<20), sysAfter/(1<<20), rssBefore/(1<<20), rssAfter/(1<<20))
	if sysAfter > sysBefore+128<<20 {
		t.Fatalf("Go runtime memory grew from %.0f to %.0f MiB", sysBefore/(1<<20), sysAfter/(1<<20))
	}
}

func metricValue(t *testing.T, h *harness, name string) float64 {
	t.Helper()
	resp, err := http.Get(h.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` ([0-9.e+]+)`).FindSubmatch(b.Bytes())
	if m == nil {
		t.Fatalf("/metrics lacks %s", name)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func goroutines(t *testing.T, h *harness) int {
	t.Helper()
	return int(metricValue(t, h, "go_goroutines"))
}
