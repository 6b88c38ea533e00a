package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Promtool runs `promtool check args…` with stdin, failing the test
// with promtool's output when it finds a problem. promtool comes with
// Debian's prometheus package, which `make test` installs.
func Promtool(tb TB, stdin []byte, args ...string) {
	tb.Helper()
	bin := requireBinary(tb, "promtool", "/usr/bin/promtool")
	cmd := exec.Command(bin, append([]string{"check"}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("promtool check %v: %v\n%s", args, err, out)
	}
}

// Prometheus starts a prometheus server on loopback that scrapes target
// (host:port, path /metrics) every second, its data in a temporary directory.
func Prometheus(tb TB, target string) *Process {
	tb.Helper()
	bin := requireBinary(tb, "prometheus", "/usr/bin/prometheus")
	port := FreePort(tb)
	p := &Process{
		Name: "prometheus", Port: port, Addr: fmt.Sprintf("127.0.0.1:%d", port),
		Dir: tb.TempDir(), tb: tb, bin: bin,
	}
	config := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"+
		"scrape_configs:\n  - job_name: hogsend-proxy\n    static_configs:\n      - targets: [%q]\n", target)
	if err := os.WriteFile(filepath.Join(p.Dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		tb.Fatalf("write prometheus config: %v", err)
	}
	p.args = []string{
		"--config.file=" + filepath.Join(p.Dir, "prometheus.yml"),
		"--storage.tsdb.path=" + filepath.Join(p.Dir, "data"),
		"--web.listen-address=" + p.Addr,
		"--log.level=warn",
	}
	tb.Cleanup(p.cleanup)
	p.Start(30 * time.Second)
	if err := p.waitPromReady(30 * time.Second); err != nil {
		tb.Fatal(err)
	}
	return p
}

// waitPromReady waits for /-/ready: the port opens before the TSDB is
// loaded, and queries meanwhile get 503.
func (p *Process) waitPromReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + p.Addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("prometheus on %s not ready within %s:\n%s", p.Addr, timeout, p.tail())
}

// PromSample is one series of an instant query's vector result.
type PromSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// PromQuery evaluates expr now through the HTTP API of the prometheus at p.
func (p *Process) PromQuery(expr string) ([]PromSample, error) {
	resp, err := http.Get("http://" + p.Addr + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", expr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnprocessableEntity {
		return nil, fmt.Errorf("query %s: prometheus answered %s", expr, resp.Status)
	}
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("query %s: decode answer: %w", expr, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", expr, body.Error)
	}
	return decodeResult(body.Data.ResultType, body.Data.Result)
}

// decodeResult reads a vector, or a scalar as one sample without labels.
func decodeResult(kind string, raw json.RawMessage) ([]PromSample, error) {
	switch kind {
	case "vector":
		var v []PromSample
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("decode vector: %w", err)
		}
		return v, nil
	case "scalar":
		var s [2]any
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("decode scalar: %w", err)
		}
		return []PromSample{{Value: s}}, nil
	}
	return nil, fmt.Errorf("result type %q, want a vector", kind)
}

// Float is the sample's value.
func (s PromSample) Float() (float64, error) {
	str, ok := s.Value[1].(string)
	if !ok {
		return 0, fmt.Errorf("sample value %v is not a string", s.Value[1])
	}
	return strconv.ParseFloat(str, 64)
}
