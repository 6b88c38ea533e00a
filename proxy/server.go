// Package proxy is the HTTP edge of hogsend-proxy: fasthttp server, routing,
// auth, body limits, responses, health and metrics. It hands bytes to translate
// and knows nothing about storage.
package proxy

import (
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/translate"
)

// Options configures a Server.
type Options struct {
	Ingest          *translate.Ingestor
	Auth            *Authenticator
	Metrics         *metrics.Set
	Checks          []Check
	Logger          *slog.Logger
	MaxBodyBytes    int
	IngestSuspended bool
	UserTokenSecret string // verifies publishable keys' userTokens
	Capture         translate.CaptureOptions
	TrustedProxies  []*net.IPNet  // peers whose X-Forwarded-For is believed
	ReadTimeout     time.Duration // default 30s; slow clients get cut off
	MaxConns        int           // concurrent connections; default 10000
	IdleTimeout     time.Duration // default 90s
}

// Server serves the native data API plus health and metrics.
type Server struct {
	ingest    *translate.Ingestor
	auth      *Authenticator
	metrics   *serverMetrics
	checks    []Check
	log       *slog.Logger
	suspended bool
	http      *fasthttp.Server

	userTokenSecret string
	captureOpts     translate.CaptureOptions
	trustedProxies  []*net.IPNet
}

// New builds a Server.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewSet()
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = 30 * time.Second
	}
	if o.MaxConns == 0 {
		o.MaxConns = 10000
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 90 * time.Second
	}
	s := &Server{
		ingest: o.Ingest, auth: o.Auth, metrics: newServerMetrics(o.Metrics), checks: o.Checks,
		log: o.Logger, suspended: o.IngestSuspended, userTokenSecret: o.UserTokenSecret,
		captureOpts: o.Capture, trustedProxies: o.TrustedProxies,
	}
	s.http = &fasthttp.Server{
		Handler:            s.handle,
		ErrorHandler:       s.handleParseError,
		Name:               "hogsend-proxy",
		ReadTimeout:        o.ReadTimeout,
		WriteTimeout:       30 * time.Second,
		IdleTimeout:        o.IdleTimeout,
		MaxRequestBodySize: o.MaxBodyBytes,
		// PostHog SDKs may put a whole payload in GET ?data=: room for 32 KiB
		// of request line and headers (fasthttp's default is 4 KiB).
		ReadBufferSize:                64 << 10,
		Concurrency:                   o.MaxConns,
		NoDefaultDate:                 false,
		NoDefaultContentType:          true,
		DisablePreParseMultipartForm:  true,
		ReduceMemoryUsage:             false,
		TCPKeepalive:                  true,
		CloseOnShutdown:               true,
		StreamRequestBody:             false,
		DisableHeaderNamesNormalizing: false,
	}
	return s
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.http.Serve(ln) }

// Shutdown stops accepting, waits for in-flight requests, then returns.
func (s *Server) Shutdown() error { return s.http.Shutdown() }

func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	route := s.route(ctx)
	s.metrics.request(route, ctx.Response.StatusCode(), time.Since(start).Seconds())
}

// route dispatches and returns the route id for metrics.
func (s *Server) route(ctx *fasthttp.RequestCtx) int {
	path := string(ctx.Path())
	method := string(ctx.Method())
	switch path {
	case "/healthz":
		s.healthz(ctx)
		return routeHealthz
	case "/readyz":
		s.readyz(ctx)
		return routeReadyz
	case "/metrics":
		s.metricsPage(ctx)
		return routeMetrics
	}
	if method == fasthttp.MethodOptions && len(path) > 4 && path[:4] == "/v1/" {
		preflight(ctx)
		return routeOptions
	}
	setCORS(ctx)
	switch {
	case path == "/v1/contacts" && method == fasthttp.MethodPut:
		s.upsertContact(ctx)
		return routeUpsertContact
	case path == "/v1/contacts" && method == fasthttp.MethodDelete:
		s.deleteContacts(ctx)
		return routeDeleteContacts
	case path == "/v1/contacts/find" && method == fasthttp.MethodGet:
		s.findContacts(ctx)
		return routeFindContacts
	case path == "/v1/events" && method == fasthttp.MethodPost:
		s.trackEvent(ctx)
		return routeTrackEvent
	case path == "/v1/admin/api-keys" && method == fasthttp.MethodPost:
		s.createAPIKey(ctx)
		return routeCreateAPIKey
	case len(path) > len(apiKeysPath)+1 && path[:len(apiKeysPath)+1] == apiKeysPath+"/" && method == fasthttp.MethodDelete:
		s.revokeAPIKey(ctx, path[len(apiKeysPath)+1:])
		return routeRevokeAPIKey
	}
	if route, ok := s.routePostHog(ctx, path); ok {
		return route
	}
	writeError(ctx, fasthttp.StatusNotFound, "Not Found")
	return routeOther
}

// handleParseError answers requests fasthttp could not read: oversized bodies
// get 413, slow clients 408, anything else 400, each with a reason.
func (s *Server) handleParseError(ctx *fasthttp.RequestCtx, err error) {
	var netErr net.Error
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		writeError(ctx, fasthttp.StatusRequestEntityTooLarge, "request body too large")
	case errors.As(err, &small):
		writeError(ctx, fasthttp.StatusRequestHeaderFieldsTooLarge, "request line and headers too large (32 KiB at most)")
	case errors.As(err, &netErr) && netErr.Timeout():
		writeError(ctx, fasthttp.StatusRequestTimeout, "request timeout")
	default:
		writeError(ctx, fasthttp.StatusBadRequest, "malformed HTTP request: "+err.Error())
	}
}
