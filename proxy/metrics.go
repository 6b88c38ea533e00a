package proxy

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
)

// route names used as metric labels; the index is the route's id.
var routeNames = []string{
	"other", "/healthz", "/readyz", "/metrics",
	"PUT /v1/contacts", "GET /v1/contacts/find", "DELETE /v1/contacts", "POST /v1/events",
	"POST /v1/admin/api-keys", "DELETE /v1/admin/api-keys/{id}", "OPTIONS", "posthog capture", "posthog other",
	"refused at the edge", "hogsend engine", "posthog project",
}

const (
	routeOther = iota
	routeHealthz
	routeReadyz
	routeMetrics
	routeUpsertContact
	routeFindContacts
	routeDeleteContacts
	routeTrackEvent
	routeCreateAPIKey
	routeRevokeAPIKey
	routeOptions
	routePostHogCapture
	routePostHogOther
	routeRefused         // answered before routing: body too large, budget full, body unreadable
	routeUpstream        // passed through to the Hogsend engine
	routePostHogUpstream // passed through to the PostHog project
)

// durationBuckets bound request durations in seconds: a capture batch is
// acknowledged in about a millisecond, a spool or dependency stall takes
// seconds; 7.5 and 15 ms tell a p99 from the 10 ms a write's
// acknowledgement aims at (docs/monitoring.md § Metrics).
var durationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// batchEventBuckets bound the events of a capture request: SDKs send one
// event at a time up to batches of a few hundred.
var batchEventBuckets = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000}

// serverMetrics are the proxy's own series, registered on a Set owned by the
// caller so nothing here is global.
type serverMetrics struct {
	set             *metrics.Set
	requests        [][600]atomic.Pointer[metrics.Counter] // [route][status]
	durations       []*metrics.PrometheusHistogram
	captureBatch    *metrics.PrometheusHistogram
	eventsAccepted  *metrics.Counter
	eventsDuplicate *metrics.Counter

	posthogAccepted  *metrics.Counter
	posthogDuplicate *metrics.Counter
	rejects          sync.Map // reason → *metrics.Counter
	warnings         sync.Map // warning → *metrics.Counter
	upstreamOutcome  sync.Map // outcome → *metrics.Counter
	engineAnswers    sync.Map // outcome → *metrics.Counter

	panics  *metrics.Counter
	refusal sync.Map // reason → *metrics.Counter
}

func newServerMetrics(set *metrics.Set) *serverMetrics {
	m := &serverMetrics{
		set:             set,
		requests:        make([][600]atomic.Pointer[metrics.Counter], len(routeNames)),
		eventsAccepted:  set.NewCounter(`hogsend_events_accepted_total{api="native"}`),
		eventsDuplicate: set.NewCounter(`hogsend_events_duplicate_total{api="native"}`),

		posthogAccepted:  set.NewCounter(`hogsend_events_accepted_total{api="posthog"}`),
		posthogDuplicate: set.NewCounter(`hogsend_events_duplicate_total{api="posthog"}`),
		panics:           set.NewCounter("hogsend_panics_total"),
		captureBatch:     set.NewPrometheusHistogramExt("hogsend_capture_batch_events", batchEventBuckets),
	}
	for _, r := range routeNames {
		name := fmt.Sprintf(`hogsend_http_request_duration_seconds{route=%q}`, r)
		m.durations = append(m.durations, set.NewPrometheusHistogramExt(name, durationBuckets))
	}
	return m
}

func (m *serverMetrics) request(route, status int, seconds float64) {
	if status < 100 || status >= 600 {
		status = 599
	}
	slot := &m.requests[route][status]
	c := slot.Load()
	if c == nil {
		c = m.set.GetOrCreateCounter(fmt.Sprintf(`hogsend_http_requests_total{route=%q,status="%d"}`, routeNames[route], status))
		slot.Store(c)
	}
	c.Inc()
	m.durations[route].Update(seconds)
}

// posthogRejected counts a refused capture request by reason.
func (m *serverMetrics) posthogRejected(reason string) {
	m.labelled(&m.rejects, "hogsend_capture_rejected_total", "reason", reason).Inc()
}

// posthogWarnings counts what an accepted capture request was warned of
// (an event dropped, an identity change refused), one per warning.
func (m *serverMetrics) posthogWarnings(warnings []string) {
	for _, w := range warnings {
		m.labelled(&m.warnings, "hogsend_capture_warnings_total", "warning", w).Inc()
	}
}

// upstream counts a passed-through request by outcome: relayed (the
// engine's answer, whatever its status), unavailable, timeout.
func (m *serverMetrics) upstream(outcome string) {
	m.labelled(&m.upstreamOutcome, "hogsend_upstream_requests_total", "outcome", outcome).Inc()
}

// engineAnswer counts a native write that waited for the engine's answer:
// relayed, or timeout (answered from the proxy's state).
func (m *serverMetrics) engineAnswer(outcome string) {
	m.labelled(&m.engineAnswers, "hogsend_engine_answers_total", "outcome", outcome).Inc()
}

// refused counts a request or connection the edge refused, by reason.
func (m *serverMetrics) refused(reason string) {
	m.labelled(&m.refusal, "hogsend_edge_refused_total", "reason", reason).Inc()
}

// labelled is the counter name{label="value"}, kept in byValue; values
// come from fixed sets in the code, never from requests.
func (m *serverMetrics) labelled(byValue *sync.Map, name, label, value string) *metrics.Counter {
	c, ok := byValue.Load(value)
	if !ok {
		c, _ = byValue.LoadOrStore(value, m.set.GetOrCreateCounter(fmt.Sprintf(`%s{%s=%q}`, name, label, value)))
	}
	return c.(*metrics.Counter)
}
