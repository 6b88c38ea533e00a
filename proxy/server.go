// Package proxy is the HTTP edge of hogsend-proxy: fasthttp server, routing,
// auth, body limits, responses, health and metrics. It hands bytes to translate
// and knows nothing about storage.
package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/translate/ingest"
)

// Options configures a Server.
type Options struct {
	Ingest          *ingest.Ingestor
	Auth            *Authenticator
	Metrics         *metrics.Set
	Checks          []Check
	Logger          *slog.Logger
	MaxBodyBytes    int
	IngestSuspended bool
	UserTokenSecret string // verifies publishable keys' userTokens
	AdminAPIKey     string // shows /readyz's error details to its bearer
	Capture         ingest.CaptureOptions
	TrustedProxies  []*net.IPNet  // peers whose X-Forwarded-For is believed
	HeaderTimeout   time.Duration // default 10s; request line and headers
	ReadTimeout     time.Duration // default 30s; the body, once headers are in
	MaxConns        int           // concurrent connections; default 10000
	MaxConnsPerIP   int           // per peer address, trusted proxies exempt; 0 = unlimited
	IdleTimeout     time.Duration // default 90s
	// MaxInflightBytes bounds request bodies and decoded capture payloads
	// held at once across all connections; default 128 MiB.
	MaxInflightBytes int64
	// InflightWait is how long a request waits for room in that budget
	// before it is refused with 429; default 1s. A large capture payload
	// waits as long for a heavy lane.
	InflightWait time.Duration
	// HeavyLanes is how many large capture payloads decode and parse at
	// once (see heavyBytes); default half of GOMAXPROCS, at least one.
	HeavyLanes int
	// InFlight, when set, counts the requests being handled: background
	// delivery yields only while they queue (docs/operations.md §
	// Delivery pacing).
	InFlight *atomic.Int64
	// Upstream, when set, is the Hogsend engine the routes the proxy does
	// not serve go to; nil answers them 404.
	Upstream *Upstream
	// HandOff, when set, lets native writes wait for the engine's answers
	// and find contacts there (docs/upstream.md § 4).
	HandOff HandOff
	// PostHog, when set, is the PostHog project what PostHog serves besides
	// capture goes to (docs/posthog-upstream.md § 2).
	PostHog *PostHogUpstream
}

// Server serves the native data API plus health and metrics.
type Server struct {
	inFlight  *atomic.Int64
	ingest    *ingest.Ingestor
	auth      *Authenticator
	metrics   *serverMetrics
	ready     *readiness
	log       *slog.Logger
	suspended bool
	http      *fasthttp.Server

	maxBody        int
	bodyTimeout    time.Duration
	budget         *byteBudget
	heavy          *heavyLanes
	upstream       *Upstream
	handoff        HandOff
	posthog        *PostHogUpstream
	postHogAnswers *postHogAnswers
	bodies         *bodyPool
	maxConnsPerIP  int
	abusers        *failureThrottle // refusals per client network
	tarpitted      atomic.Int64     // throttled answers being held back

	userTokenSecret string
	adminKey        []byte
	captureOpts     ingest.CaptureOptions
	trustedProxies  []*net.IPNet
}

// New builds a Server.
func New(o Options) *Server {
	o = withDefaults(o)
	s := &Server{
		inFlight: o.InFlight,
		ingest:   o.Ingest, auth: o.Auth, metrics: newServerMetrics(o.Metrics),
		ready: &readiness{checks: append(append(o.Checks, o.Upstream.checks()...), o.PostHog.checks()...), log: o.Logger},
		log:   o.Logger, suspended: o.IngestSuspended, userTokenSecret: o.UserTokenSecret,
		adminKey: []byte(o.AdminAPIKey), captureOpts: o.Capture, trustedProxies: o.TrustedProxies,
		maxBody: o.MaxBodyBytes, bodyTimeout: o.ReadTimeout, budget: newByteBudget(o.MaxInflightBytes, o.InflightWait),
		heavy: newHeavyLanes(o.HeavyLanes, o.InflightWait), upstream: o.Upstream, handoff: o.HandOff, posthog: o.PostHog,
		postHogAnswers: &postHogAnswers{set: o.Metrics, c: map[[2]string]*metrics.Counter{}},
		bodies:         &bodyPool{}, maxConnsPerIP: o.MaxConnsPerIP,
		abusers: newFailureThrottle(maxRefusals, refusalWindow, refusalNetworks),
	}
	s.metrics.set.NewGauge("hogsend_inflight_bytes", func() float64 { return float64(s.budget.inUse()) })
	s.metrics.set.NewGauge("hogsend_heavy_lanes_busy", func() float64 { return float64(s.heavy.busy()) })
	s.ready.registerMetrics(s.metrics.set)
	s.http = &fasthttp.Server{
		Handler:      s.handle,
		ErrorHandler: s.handleParseError,
		// The server's ReadTimeout covers the request line and headers; once
		// they are in, headerReceived gives the body HOGSEND_READ_TIMEOUT.
		HeaderReceived:     s.headerReceived,
		Logger:             fasthttpLog{log: o.Logger, lastWarn: new(atomic.Int64)},
		Name:               "hogsend-proxy",
		ReadTimeout:        o.HeaderTimeout,
		WriteTimeout:       30 * time.Second,
		IdleTimeout:        o.IdleTimeout,
		MaxRequestBodySize: o.MaxBodyBytes,
		// PostHog SDKs may put a whole payload in GET ?data=: room for
		// maxHeaderBytes of request line and headers (fasthttp's default is 4 KiB).
		ReadBufferSize:                maxHeaderBytes,
		Concurrency:                   o.MaxConns,
		NoDefaultDate:                 false,
		NoDefaultContentType:          true,
		DisablePreParseMultipartForm:  true,
		ReduceMemoryUsage:             false,
		TCPKeepalive:                  true,
		CloseOnShutdown:               true,
		StreamRequestBody:             true, // read by requestBody against the budget
		DisableHeaderNamesNormalizing: false,
	}
	return s
}

// fasthttpLog sends fasthttp's own messages (accept errors, connection
// limits) to the service's log. A connection a client broke is its own
// doing and already counted in hogsend_edge_refused_total: logged at debug,
// so that a flood of garbage cannot flood the log, and cut short, since it
// quotes the client's bytes.
type fasthttpLog struct {
	log      *slog.Logger
	lastWarn *atomic.Int64 // unix nanos of the last warning: at most one a second
}

const maxServerLogBytes = 256

func (l fasthttpLog) Printf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if len(msg) > maxServerLogBytes {
		msg = strings.ToValidUTF8(msg[:maxServerLogBytes], "") + "…"
	}
	if strings.HasPrefix(format, "error when serving connection") {
		l.log.Debug("http server: " + msg)
		return
	}
	now := time.Now().UnixNano()
	if last := l.lastWarn.Load(); now-last < int64(time.Second) || !l.lastWarn.CompareAndSwap(last, now) {
		l.log.Debug("http server: " + msg)
		return
	}
	l.log.Warn("http server: " + msg)
}

// maxHeaderBytes bounds a request's line and headers (431 above).
const maxHeaderBytes = 64 << 10

func withDefaults(o Options) Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewSet()
	}
	if o.HeaderTimeout == 0 {
		o.HeaderTimeout = 10 * time.Second
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
	if o.MaxInflightBytes == 0 {
		o.MaxInflightBytes = 128 << 20
	}
	if o.InflightWait == 0 {
		o.InflightWait = time.Second
	}
	if o.HeavyLanes <= 0 {
		o.HeavyLanes = max(1, runtime.GOMAXPROCS(0)/2)
	}
	return o
}

// Serve accepts connections on ln until Shutdown, at most MaxConnsPerIP
// from one untrusted address.
func (s *Server) Serve(ln net.Listener) error {
	return s.http.Serve(newEdgeListener(ln, s.maxConnsPerIP, s.trustedProxies, s.metrics.refused, s.penalizedAddr))
}

// Shutdown stops accepting, waits for in-flight requests, then returns.
func (s *Server) Shutdown() error { return s.http.Shutdown() }

// handle serves one request behind a recover, with its body read against
// the in-flight budget before any handler sees it.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	if s.inFlight != nil {
		s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
	}
	start := time.Now()
	route := routeRefused
	l := &lease{budget: s.budget}
	defer func() {
		status := ctx.Response.StatusCode()
		s.metrics.request(route, status, time.Since(start).Seconds())
		// A refusal weighs what it cost: the body declared, or the bytes
		// its decoding reserved, whichever is more.
		s.noteRefusal(ctx, status, max(declaredBodyBytes(ctx), int(l.reserved)))
	}()
	defer s.recoverPanic(ctx)
	if s.penalized(ctx) {
		return
	}
	defer l.end()
	release, ok := s.admitBody(ctx, l)
	if !ok {
		return
	}
	defer release()
	route = routeOther // what a panic in routing is counted as
	route = s.route(ctx, l)
}

// admitBody reads the request's body into a pooled buffer the handlers see
// as the request body, or answers the refusal; release hands the buffer
// back once the handler is done.
func (s *Server) admitBody(ctx *fasthttp.RequestCtx, l *lease) (release func(), ok bool) {
	body, refusal := s.requestBody(ctx, l)
	if refusal != nil {
		s.refuse(ctx, refusal)
		return nil, false
	}
	if body == nil {
		// Drops an empty body's stream, which fasthttp's Body would read
		// with a warning on every call.
		ctx.Request.ResetBody()
		return func() {}, true
	}
	ctx.Request.SetBodyRaw(body)
	return func() {
		ctx.Request.SetBodyRaw(nil)
		s.bodies.put(body)
	}, true
}

// route dispatches and returns the route id for metrics.
func (s *Server) route(ctx *fasthttp.RequestCtx, l *lease) int {
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
	if route, ok := s.routePostHog(ctx, path, l); ok {
		return route
	}
	if s.upstream != nil {
		s.forward(ctx)
		return routeUpstream
	}
	writeError(ctx, fasthttp.StatusNotFound, "Not Found")
	return routeOther
}

// handleParseError answers requests fasthttp could not read: oversized bodies
// get 413, slow clients 408, anything else 400, each with a reason, counted
// with the edge's other refusals.
func (s *Server) handleParseError(ctx *fasthttp.RequestCtx, err error) {
	defer func() { s.noteRefusal(ctx, ctx.Response.StatusCode(), 0) }()
	var netErr net.Error
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		s.metrics.refused("body_too_large")
		writeError(ctx, fasthttp.StatusRequestEntityTooLarge, "request body too large")
	case errors.As(err, &small):
		s.metrics.refused("headers_too_large")
		writeError(ctx, fasthttp.StatusRequestHeaderFieldsTooLarge, "request line and headers too large (at most "+strconv.Itoa(maxHeaderBytes)+" bytes)")
	case errors.As(err, &netErr) && netErr.Timeout():
		s.metrics.refused("read_timeout")
		writeError(ctx, fasthttp.StatusRequestTimeout, "request timeout")
	default:
		s.metrics.refused("malformed_request")
		writeError(ctx, fasthttp.StatusBadRequest, "malformed HTTP request: "+err.Error())
	}
}

// SetClock replaces the clock of the key caches: tests pass the 60 s bound
// of a cached key without sleeping through it.
func (s *Server) SetClock(now func() time.Time) { s.auth.SetClock(now) }
