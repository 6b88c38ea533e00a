package abuse

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

const (
	adminKey    = "abuse-admin-key-0123456789abcdef"
	publicToken = "phc_abuse_public"
)

// The limits the suite runs the proxy with: small, so that every attack
// passes them quickly.
var suiteLimits = Limits{
	MaxBodyBytes: 1 << 20, MaxDecodedBytes: 4 << 20, MaxConnsPerIP: 64,
	MaxProperties: 10000, MaxEvents: 10000,
	HeaderTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second,
}

func limitEnv(l Limits) []string {
	return []string{
		"HOGSEND_MAX_BODY_BYTES=" + strconv.Itoa(l.MaxBodyBytes),
		"HOGSEND_MAX_DECODED_BYTES=" + strconv.Itoa(l.MaxDecodedBytes),
		"HOGSEND_MAX_INFLIGHT_BYTES=" + strconv.Itoa(16<<20),
		"HOGSEND_MAX_CONNS_PER_IP=" + strconv.Itoa(l.MaxConnsPerIP),
		"HOGSEND_MAX_PROPERTIES=" + strconv.Itoa(l.MaxProperties),
		"HOGSEND_MAX_EVENTS_PER_REQUEST=" + strconv.Itoa(l.MaxEvents),
		"HOGSEND_HEADER_TIMEOUT=" + l.HeaderTimeout.String(),
		"HOGSEND_READ_TIMEOUT=" + l.ReadTimeout.String(),
	}
}

// proxyBin is the binary under attack, built once for the package.
var proxyBin testenv.ProxyBinary

func TestMain(m *testing.M) {
	code := m.Run()
	proxyBin.Remove()
	os.Exit(code)
}

// proxyProc is one `hogsend-proxy serve` under attack.
type proxyProc struct {
	t       *testing.T
	bin     string
	env     []string
	addr    string
	base    string
	dataDir string
	ch      *testenv.Process // nil in embedded mode
	logPath string

	cmd  *exec.Cmd
	done chan struct{}
}

// startServerMode runs the proxy against fresh redis-server and
// clickhouse-server processes.
func startServerMode(t *testing.T) *proxyProc {
	redis, ch := testenv.Redis(t), testenv.ClickHouse(t)
	p := newProxy(t, "HOGSEND_REDIS_URL="+redis.RedisURL(), "HOGSEND_CLICKHOUSE_URL="+ch.ClickHouseURL("hogsend"))
	p.ch = ch
	p.start()
	return p
}

// startEmbeddedMode runs the proxy with its in-process identity store and
// chDB.
func startEmbeddedMode(t *testing.T) *proxyProc {
	lib := os.Getenv("CHDB_LIB_PATH")
	if _, err := os.Stat(lib); lib == "" || err != nil {
		testenv.Unavailable(t, "libchdb.so (CHDB_LIB_PATH) for the embedded mode")
	}
	p := newProxy(t, "HOGSEND_CHDB_LIB="+lib)
	p.start()
	return p
}

func newProxy(t *testing.T, extraEnv ...string) *proxyProc {
	port := testenv.FreePort(t)
	p := &proxyProc{t: t, bin: proxyBin.Path(t), addr: fmt.Sprintf("127.0.0.1:%d", port), dataDir: t.TempDir()}
	p.base = "http://" + p.addr
	p.logPath = filepath.Join(t.TempDir(), "proxy.log")
	p.env = append(append([]string{
		"HOGSEND_LISTEN=" + p.addr,
		"HOGSEND_DATA_DIR=" + p.dataDir,
		"HOGSEND_ADMIN_API_KEY=" + adminKey,
		"HOGSEND_POSTHOG_TOKENS=" + publicToken,
		"HOGSEND_CLICKHOUSE_BATCH_DELAY=200ms",
		"HOGSEND_SHUTDOWN_TIMEOUT=20s",
		"HOGSEND_LOG_LEVEL=warn",
	}, limitEnv(suiteLimits)...), extraEnv...)
	t.Cleanup(func() {
		if p.running() {
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("proxy log (tail):\n%s", p.logTail(8000))
		}
	})
	return p
}

// start runs serve and waits for /readyz 200.
func (p *proxyProc) start() {
	p.t.Helper()
	log, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	p.cmd = exec.Command(p.bin, "serve")
	p.cmd.Env = append(os.Environ(), p.env...)
	p.cmd.Stdout, p.cmd.Stderr = log, log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		log.Close()
		p.t.Fatalf("start proxy: %v", err)
	}
	p.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		cmd.Wait()
		log.Close()
		close(done)
	}(p.cmd, p.done)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if !p.running() {
			p.t.Fatalf("proxy exited during start-up:\n%s", p.logTail(4000))
		}
		if status, _ := p.get("/readyz"); status == 200 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Fatalf("proxy not ready within 60s:\n%s", p.logTail(4000))
}

func (p *proxyProc) running() bool {
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and waits for the exit.
func (p *proxyProc) stop() {
	if !p.running() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(40 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proxyProc) logTail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > n {
		b = append([]byte("…"), b[len(b)-n:]...)
	}
	return string(b)
}

var probe = &http.Client{Timeout: 5 * time.Second}

func (p *proxyProc) get(path string) (int, []byte) {
	resp, err := probe.Get(p.base + path)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// alive: the process runs and /healthz answers 200.
func (p *proxyProc) alive() bool {
	for range 3 {
		if !p.running() {
			return false
		}
		if status, _ := p.get("/healthz"); status == 200 {
			return true
		}
		time.Sleep(time.Second)
	}
	return false
}

// metric reads one sample of /metrics by its full name with labels.
func (p *proxyProc) metric(name string) (float64, error) {
	status, body := p.get("/metrics")
	if status != 200 {
		return 0, fmt.Errorf("/metrics answered %d", status)
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("/metrics has no %s", name)
}

func (p *proxyProc) goroutines() int {
	n, err := p.metric("go_goroutines")
	if err != nil {
		p.t.Errorf("goroutines: %v", err)
	}
	return int(n)
}

// memory reads VmRSS and VmHWM (peak) of the process, in bytes.
func (p *proxyProc) memory() (rss, peak int64) { return testenv.ProcMemory(p.cmd.Process.Pid) }

// resetPeak sets VmHWM back to the current RSS (Linux clear_refs 5), so
// that the peak read after an attack is the attack's.
func (p *proxyProc) resetPeak() bool {
	return testenv.ResetPeakRSS(p.cmd.Process.Pid) == nil
}

// mintKey creates an ingest key through the admin API.
func (p *proxyProc) mintKey() string {
	p.t.Helper()
	req, _ := http.NewRequest("POST", p.base+"/v1/admin/api-keys", strings.NewReader(`{"name":"abuse","scopes":["ingest"]}`))
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := probe.Do(req)
	if err != nil {
		p.t.Fatalf("mint key: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	_, rest, ok := strings.Cut(string(b), `"key":"`)
	key, _, _ := strings.Cut(rest, `"`)
	if resp.StatusCode != 201 || !ok {
		p.t.Fatalf("mint key: %d %s", resp.StatusCode, b)
	}
	return key
}
