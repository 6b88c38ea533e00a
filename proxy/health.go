package proxy

import (
	"bytes"
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/internal/exposition"
	"github.com/hogsend/hogsend-proxy/translate/jsontext"
)

// Check is one readiness dependency: Redis, ClickHouse, the spool.
type Check struct {
	Name string
	// Fn returns nil when the dependency is usable.
	Fn func(ctx context.Context) error
	// Detail, optional, adds facts such as the writer backlog to /readyz.
	Detail func() string
	// Advisory checks are reported without making the proxy unready: a
	// dependency the proxy serves without (the Hogsend engine).
	Advisory bool
}

// readyTTL is how long one round of checks answers /readyz, so that a flood
// of probes runs the checks once a second, not once a request.
const readyTTL = time.Second

// checkResult is one dependency's state at the last round of checks.
type checkResult struct {
	name     string
	err      error
	detail   string
	advisory bool
}

// readiness runs the checks at most once per readyTTL; callers arriving
// while a round runs wait for it.
type readiness struct {
	checks []Check
	log    *slog.Logger

	mu      sync.Mutex
	at      time.Time
	results []checkResult
}

func (r *readiness) current() []checkResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.results != nil && time.Since(r.at) < readyTTL {
		return r.results
	}
	cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	results := make([]checkResult, len(r.checks))
	for i, c := range r.checks {
		results[i] = checkResult{name: c.Name, err: c.Fn(cctx), advisory: c.Advisory}
		if results[i].err != nil {
			r.log.Warn("not ready", "dependency", c.Name, "err", results[i].err)
		}
		if c.Detail != nil {
			results[i].detail = c.Detail()
		}
	}
	r.results, r.at = results, time.Now()
	return results
}

// registerMetrics adds hogsend_dependency_up{dependency} for each check,
// read from the round of checks /readyz would answer with.
func (r *readiness) registerMetrics(set *metrics.Set) {
	for i, c := range r.checks {
		set.NewGauge(fmt.Sprintf(`hogsend_dependency_up{dependency=%q}`, c.Name), func() float64 { return r.up(i) })
	}
}

// up is 1 when check i passed at the current round, else 0. A check that
// panics reads as down here, so one bad check does not take the scrape with
// it; /readyz answers its panic as a handler's.
func (r *readiness) up(i int) (v float64) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("readiness check panicked during a scrape", "dependency", r.checks[i].Name, "panic", p)
			v = 0
		}
	}()
	if r.current()[i].err != nil {
		return 0
	}
	return 1
}

func (s *Server) healthz(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, fasthttp.StatusOK, []byte(`{"status":"ok"}`))
}

// readyz answers 503 naming each failing dependency while any is unusable.
// The error behind a failure (addresses, paths) is shown only to the admin
// key and logged.
func (s *Server) readyz(ctx *fasthttp.RequestCtx) {
	results := s.ready.current()
	admin := s.isAdminBearer(ctx.Request.Header.Peek("Authorization"))
	b := append(make([]byte, 0, 256), `{"checks":{`...)
	ok := true
	for i, r := range results {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsontext.AppendString(b, r.name)
		b = append(b, `:{"ok":`...)
		if r.err != nil {
			ok = ok && r.advisory
			b = append(b, "false"...)
			if admin {
				b = append(b, `,"error":`...)
				b = jsontext.AppendString(b, r.err.Error())
			}
		} else {
			b = append(b, "true"...)
		}
		if r.detail != "" {
			b = append(b, `,"detail":`...)
			b = jsontext.AppendString(b, r.detail)
		}
		b = append(b, '}')
	}
	b = append(b, `},"status":`...)
	status := fasthttp.StatusOK
	if ok {
		b = append(b, `"ready"}`...)
	} else {
		b = append(b, `"unavailable"}`...)
		status = fasthttp.StatusServiceUnavailable
	}
	writeJSON(ctx, status, b)
}

// isAdminBearer reports "Bearer <HOGSEND_ADMIN_API_KEY>", compared in
// constant time; false when no admin key is configured.
func (s *Server) isAdminBearer(header []byte) bool {
	token, ok := bytes.CutPrefix(header, bearerPrefix)
	return ok && len(s.adminKey) > 0 && subtle.ConstantTimeCompare(token, s.adminKey) == 1
}

func (s *Server) metricsPage(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
	// With HELP and TYPE per family, and the Go runtime and process series.
	exposition.Write(ctx, s.metrics.set)
}
