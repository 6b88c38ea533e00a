package exposition

import (
	"bytes"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metrics"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// TestWriteAnnotatesEveryFamily: each family gets its HELP and TYPE once,
// callback counters are typed counter, histograms have le buckets, runtime
// series outside the catalogue are dropped, and promtool passes the page.
func TestWriteAnnotatesEveryFamily(t *testing.T) {
	set := metrics.NewSet()
	set.NewCounter(`hogsend_events_accepted_total{api="native"}`).Add(3)
	set.NewGauge("hogsend_spool_appends_total", func() float64 { return 7 })
	set.NewGauge(`hogsend_spool_backlog_bytes{consumer="clickhouse"}`, func() float64 { return 42 })
	h := set.NewPrometheusHistogramExt(`hogsend_http_request_duration_seconds{route="POST /v1/events"}`, []float64{0.01, 0.1})
	h.Update(0.05)

	var out bytes.Buffer
	Write(&out, set)
	text := out.String()
	for _, want := range []string{
		"# HELP hogsend_events_accepted_total Events accepted and made durable, by API.\n# TYPE hogsend_events_accepted_total counter\nhogsend_events_accepted_total{api=\"native\"} 3\n",
		"# TYPE hogsend_spool_appends_total counter\nhogsend_spool_appends_total 7\n",
		"# TYPE hogsend_spool_backlog_bytes gauge\nhogsend_spool_backlog_bytes{consumer=\"clickhouse\"} 42\n",
		"# TYPE hogsend_http_request_duration_seconds histogram\n",
		`hogsend_http_request_duration_seconds_bucket{route="POST /v1/events",le="0.1"} 1`,
		`hogsend_http_request_duration_seconds_count{route="POST /v1/events"} 1`,
		"# TYPE go_goroutines gauge\n",
		"# TYPE process_cpu_seconds_total counter\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(text, "go_cgo_calls_count") {
		t.Error("a runtime family outside the catalogue was written")
	}
	testenv.Promtool(t, out.Bytes(), "metrics")
}

// TestUncataloguedFamilyIsUntyped: a family missing from the catalogue is
// written without help, which promtool reports ("no help text"), so a test
// that lints a scrape catches it.
func TestUncataloguedFamilyIsUntyped(t *testing.T) {
	set := metrics.NewSet()
	set.NewCounter("hogsend_not_catalogued_total").Inc()
	var out bytes.Buffer
	Write(&out, set)
	if !strings.Contains(out.String(), "# TYPE hogsend_not_catalogued_total untyped\nhogsend_not_catalogued_total 1\n") {
		t.Fatalf("an unknown family is not written untyped:\n%s", out.String())
	}
	if strings.Contains(out.String(), "# HELP hogsend_not_catalogued_total") {
		t.Fatal("an unknown family got a help text")
	}
}
