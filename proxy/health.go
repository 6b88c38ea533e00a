package proxy

import (
	"context"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/translate"
)

// Check is one readiness dependency: Redis, ClickHouse, the spool.
type Check struct {
	Name string
	// Fn returns nil when the dependency is usable.
	Fn func(ctx context.Context) error
	// Detail, optional, adds facts such as the writer backlog to /readyz.
	Detail func() string
}

func (s *Server) healthz(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, fasthttp.StatusOK, []byte(`{"status":"ok"}`))
}

// readyz answers 503 naming each failing dependency while any is unusable.
func (s *Server) readyz(ctx *fasthttp.RequestCtx) {
	cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b := append(make([]byte, 0, 256), `{"checks":{`...)
	ok := true
	for i, c := range s.checks {
		if i > 0 {
			b = append(b, ',')
		}
		b = translate.AppendJSONString(b, c.Name)
		b = append(b, `:{"ok":`...)
		if err := c.Fn(cctx); err != nil {
			ok = false
			b = append(b, `false,"error":`...)
			b = translate.AppendJSONString(b, err.Error())
		} else {
			b = append(b, "true"...)
		}
		if c.Detail != nil {
			b = append(b, `,"detail":`...)
			b = translate.AppendJSONString(b, c.Detail())
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

func (s *Server) metricsPage(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
	s.metrics.set.WritePrometheus(ctx)
	// Process and Go runtime series: goroutines, heap, GC, open fds.
	metrics.WriteProcessMetrics(ctx)
}
