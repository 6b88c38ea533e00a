package proxy

import (
	"errors"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/translate/ingest"
	"github.com/hogsend/hogsend-proxy/translate/jsontext"
	"github.com/hogsend/hogsend-proxy/translate/posthog"
)

// PostHog capture: what unmodified PostHog SDKs call when their host points
// here (docs/contracts/posthog-capture.md §1, §7).

// captureRoutes are the v0 capture paths, without their optional trailing slash.
var captureRoutes = map[string]bool{
	"/e": true, "/i/v0/e": true, "/batch": true, "/capture": true, "/track": true, "/engage": true,
	"/i/v0/ai/batch": true,
}

var (
	captureOK          = []byte(`{"status":"Ok"}`)
	recordingsDropped  = []byte(`{"status":"Ok","quota_limited":["recordings"]}`)
	noFlags            = []byte(`{"flags":{},"featureFlags":{},"featureFlagPayloads":{},"errorsWhileComputingFlags":false,"quotaLimited":[],"requestId":""}`)
	legacyDecideNoFlag = []byte(`{"featureFlags":{},"featureFlagPayloads":{},"errorsWhileComputingFlags":false,"sessionRecording":false,"supportedCompression":["gzip","gzip-js"],"config":{"enable_collect_everything":false},"siteApps":[]}`)
)

// routePostHog serves the PostHog paths; ok is false for any other path.
func (s *Server) routePostHog(ctx *fasthttp.RequestCtx, path string, l *lease) (int, bool) {
	trimmed := strings.TrimSuffix(path, "/")
	if !captureRoutes[trimmed] {
		if route, ok := s.routePostHogUpstream(ctx, trimmed); ok {
			return route, true
		}
	}
	switch {
	case captureRoutes[trimmed]:
		if ctx.IsOptions() {
			posthogCORS(ctx)
			writeJSON(ctx, fasthttp.StatusOK, captureOK)
			return routePostHogCapture, true
		}
		posthogCORS(ctx)
		s.capture(ctx, trimmed, l)
		return routePostHogCapture, true
	case trimmed == "/s" && (ctx.IsPost() || ctx.IsOptions() || s.upstream == nil):
		// PostHog's recordings are POSTed; Hogsend's short links are
		// GET /s/<code> (docs/upstream.md § 1.2).
		posthogCORS(ctx)
		writeJSON(ctx, fasthttp.StatusOK, recordingsDropped)
		return routePostHogOther, true
	case trimmed == "/flags":
		posthogCORS(ctx)
		writeJSON(ctx, fasthttp.StatusOK, noFlags)
		return routePostHogOther, true
	case trimmed == "/decide":
		posthogCORS(ctx)
		writeJSON(ctx, fasthttp.StatusOK, legacyDecideNoFlag)
		return routePostHogOther, true
	case strings.HasPrefix(trimmed, "/array/"):
		posthogCORS(ctx)
		s.remoteConfig(ctx, trimmed)
		return routePostHogOther, true
	case trimmed == "/_readiness" || trimmed == "/_liveness":
		ctx.SetContentType("text/plain")
		ctx.SetBodyString("capture")
		return routePostHogOther, true
	}
	return 0, false
}

// posthogCORS mirrors the origin and requested headers, credentials allowed,
// as capture does.
func posthogCORS(ctx *fasthttp.RequestCtx) {
	origin := ctx.Request.Header.Peek("Origin")
	if len(origin) == 0 {
		ctx.Response.Header.Set("Access-Control-Allow-Origin", "*")
	} else {
		ctx.Response.Header.SetBytesV("Access-Control-Allow-Origin", origin)
		ctx.Response.Header.Set("Access-Control-Allow-Credentials", "true")
		ctx.Response.Header.Set("Vary", "Origin")
	}
	ctx.Response.Header.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	if h := ctx.Request.Header.Peek("Access-Control-Request-Headers"); len(h) > 0 {
		ctx.Response.Header.SetBytesV("Access-Control-Allow-Headers", h)
	}
}

func (s *Server) capture(ctx *fasthttp.RequestCtx, path string, l *lease) {
	budget := l.forCapture(s.heavy)
	defer budget.end()
	body := ctx.Request.Body()
	if err := budget.admit(len(body)); err != nil {
		s.captureFailed(ctx, err)
		return
	}
	res, err := s.ingest.Capture(requestContext(ctx), ingest.CaptureRequest{
		Path:            path,
		Query:           ctx.URI().QueryString(),
		ContentType:     string(ctx.Request.Header.ContentType()),
		ContentEncoding: string(ctx.Request.Header.ContentEncoding()),
		Body:            body,
		IP:              s.clientIP(ctx),
		Budget:          budget,
	}, s.captureOpts)
	if err != nil {
		s.captureFailed(ctx, err)
		return
	}
	s.metrics.posthogAccepted.Add(res.Stored)
	s.metrics.posthogDuplicate.Add(res.Duplicates)
	s.metrics.captureBatch.Update(float64(res.Stored + res.Duplicates))
	s.metrics.posthogWarnings(res.Warnings)
	if string(ctx.QueryArgs().Peek("beacon")) == "1" {
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, captureOK)
}

// captureFailed answers what the edge owns (a full in-flight budget, a
// dependency down) and hands the rest to writeCaptureError.
func (s *Server) captureFailed(ctx *fasthttp.RequestCtx, err error) {
	switch {
	case errors.Is(err, errBudgetFull):
		s.refuse(ctx, s.busy())
	case errors.Is(err, errHeavyBusy):
		s.refuse(ctx, heavyBusy)
	case ingest.IsUnavailable(err):
		s.writeCaptureUnavailable(ctx, err)
	default:
		s.writeCaptureError(ctx, err)
	}
}

// writeCaptureError answers with the statuses SDKs act on: 400 (drop), 401,
// 413 (posthog-node halves its batch), 429 + Retry-After for too many bytes
// in flight, 503 + Retry-After (every SDK retries) only for a store down.
// The body is {"type","code","detail"}, code one of posthog.Reason's.
func (s *Server) writeCaptureError(ctx *fasthttp.RequestCtx, err error) {
	status, kind, code := fasthttp.StatusBadRequest, "validation_error", posthog.Reason(err)
	switch {
	// Before ErrOverloaded: a budget that can never hold the request says
	// so by wrapping posthog.ErrTooLarge, and a retry would not help.
	case errors.Is(err, posthog.ErrTooLarge), errors.Is(err, posthog.ErrDecodeRatio),
		errors.Is(err, posthog.ErrTooManyEvents), errors.Is(err, posthog.ErrEventTooLarge),
		errors.Is(err, ingest.ErrTooLargeToStore):
		status = fasthttp.StatusRequestEntityTooLarge
		if code == "overloaded" || code == "other" {
			code = "too_large"
		}
	case errors.Is(err, posthog.ErrOverloaded):
		ctx.Response.Header.Set("Retry-After", "1")
		status, kind = fasthttp.StatusTooManyRequests, "rate_limited"
	case ingest.IsUnavailable(err):
		s.log.Warn("capture not acknowledged", "err", err)
		ctx.Response.Header.Set("Retry-After", "1")
		status, kind = fasthttp.StatusServiceUnavailable, "server_error"
		if code == "other" {
			code = "unavailable"
		}
	case errors.Is(err, ingest.ErrUnknownToken):
		status, kind, code = fasthttp.StatusUnauthorized, "authentication_error", "unknown_token"
	case errors.Is(err, posthog.ErrNoToken), errors.Is(err, posthog.ErrInvalidToken),
		errors.Is(err, posthog.ErrMultipleTokens):
		status, kind = fasthttp.StatusUnauthorized, "authentication_error"
	}
	s.metrics.posthogRejected(code)
	b := append(make([]byte, 0, 128), `{"type":`...)
	b = jsontext.AppendString(b, kind)
	b = append(b, `,"code":`...)
	b = jsontext.AppendString(b, code)
	b = append(b, `,"detail":`...)
	b = jsontext.AppendString(b, err.Error())
	writeJSON(ctx, status, append(b, '}'))
}

// remoteConfig answers posthog-js's start-up config: gzip allowed, events to
// /i/v0/e/, no recordings, flags, surveys or site apps. Its path is
// /array/<token>/config or /array/<token>/config.js; any other is 404.
func (s *Server) remoteConfig(ctx *fasthttp.RequestCtx, path string) {
	token, ok := remoteConfigToken(path)
	if !ok {
		writeError(ctx, fasthttp.StatusNotFound, "Not Found")
		return
	}
	cfg := append(make([]byte, 0, 256), `{"token":`...)
	cfg = jsontext.AppendString(cfg, token)
	// In front of a PostHog project this is the fall-back while it is
	// away: flags on, so posthog-js still asks /flags (answered with none)
	// and its onFeatureFlags callbacks run.
	cfg = append(cfg, `,"supportedCompression":["gzip","gzip-js"],"hasFeatureFlags":`...)
	cfg = strconv.AppendBool(cfg, s.posthog != nil)
	cfg = append(cfg, `,"analytics":{"endpoint":"/i/v0/e/"},"sessionRecording":false,"heatmaps":false,"surveys":false,"siteApps":[]}`...)
	if strings.HasSuffix(path, ".js") {
		js := append(make([]byte, 0, 384), "(function(){window._POSTHOG_REMOTE_CONFIG=window._POSTHOG_REMOTE_CONFIG||{};window._POSTHOG_REMOTE_CONFIG["...)
		js = jsontext.AppendString(js, token)
		js = append(js, "]={config:"...)
		js = append(js, cfg...)
		js = append(js, ",siteApps:[]};})();"...)
		ctx.SetContentType("application/javascript")
		ctx.SetBody(js)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, cfg)
}

// remoteConfigToken is the token of /array/<token>/config(.js); ok is false
// for any other path under /array/, or an empty token or one with a '/'.
func remoteConfigToken(path string) (string, bool) {
	rest := strings.TrimPrefix(path, "/array/")
	token, file, ok := strings.Cut(rest, "/")
	if !ok || token == "" || (file != "config" && file != "config.js") {
		return "", false
	}
	return token, true
}
