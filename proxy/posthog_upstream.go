package proxy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/VictoriaMetrics/metrics"
	"github.com/sony/gobreaker/v2"
	"github.com/valyala/fasthttp"
)

// PostHogUpstream is the PostHog project behind the proxy: what PostHog
// serves besides capture goes to its ingestion host or its assets host, as
// PostHog's own reverse-proxy guides route it (docs/posthog-upstream.md § 2).
type PostHogUpstream struct {
	ingest *Upstream
	assets *Upstream
}

// NewPostHogUpstream returns the PostHog project of its ingestion host
// (https://eu.i.posthog.com) and assets host
// (https://eu-assets.i.posthog.com), each with o's timeout, pool and
// breaker.
func NewPostHogUpstream(url, assetsURL string, o UpstreamOptions) (*PostHogUpstream, error) {
	o.URL = url
	ingest, err := NewUpstream(o)
	if err != nil {
		return nil, fmt.Errorf("posthog ingestion host: %w", err)
	}
	o.URL = assetsURL
	assets, err := NewUpstream(o)
	if err != nil {
		return nil, fmt.Errorf("posthog assets host: %w", err)
	}
	return &PostHogUpstream{ingest: ingest, assets: assets}, nil
}

// checks reports PostHog on /readyz without failing it: capture never
// depends on PostHog.
func (p *PostHogUpstream) checks() []Check {
	if p == nil {
		return nil
	}
	return []Check{{Name: "posthog", Advisory: true,
		Fn: func(context.Context) error {
			if p.ingest.breaker.State() == gobreaker.StateOpen {
				return errors.New("posthog unavailable: breaker open after failed exchanges")
			}
			return nil
		},
		Detail: func() string { return "breaker " + p.ingest.breaker.State().String() }}}
}

// routePostHogUpstream passes what PostHog serves besides capture to it.
// With fallback, an answer PostHog cannot give (unreachable, breaker open,
// timeout, 5xx) is the proxy's own, as without PostHog; without one, 503.
func (s *Server) routePostHogUpstream(ctx *fasthttp.RequestCtx, trimmed string) (int, bool) {
	p := s.posthog
	if p == nil {
		return 0, false
	}
	switch {
	case trimmed == "/flags":
		s.passPostHog(ctx, p.ingest, "flags", func(ctx *fasthttp.RequestCtx) { writeJSON(ctx, fasthttp.StatusOK, noFlags) })
	case trimmed == "/decide":
		s.passPostHog(ctx, p.ingest, "decide", func(ctx *fasthttp.RequestCtx) { writeJSON(ctx, fasthttp.StatusOK, legacyDecideNoFlag) })
	case trimmed == "/s" && (ctx.IsPost() || ctx.IsOptions() || s.upstream == nil):
		s.passPostHog(ctx, p.ingest, "recordings", func(ctx *fasthttp.RequestCtx) { writeJSON(ctx, fasthttp.StatusOK, recordingsDropped) })
	case strings.HasPrefix(trimmed, "/array/"):
		s.passPostHog(ctx, p.assets, "remote config", func(ctx *fasthttp.RequestCtx) { s.remoteConfig(ctx, trimmed) })
	case strings.HasPrefix(trimmed, "/static/"):
		s.passPostHog(ctx, p.assets, "static", nil)
	case strings.HasPrefix(trimmed, "/api/"):
		s.passPostHog(ctx, p.ingest, "api", nil)
	default:
		return 0, false
	}
	return routePostHogUpstream, true
}

// passPostHog relays ctx to u and PostHog's answer back, the visitor's
// cookies (the site's, never PostHog's business) dropped.
func (s *Server) passPostHog(ctx *fasthttp.RequestCtx, u *Upstream, route string, fallback func(*fasthttp.RequestCtx)) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	u.outgoing(ctx, req, s.forwardedFor(ctx))
	req.Header.Del("Cookie")
	_, err := u.breaker.Execute(func() (struct{}, error) { return struct{}{}, u.exchange(req, resp) })
	if err == nil {
		s.postHogAnswers.count(route, strconv.Itoa(resp.StatusCode()))
		relayAnswer(ctx, resp)
		return
	}
	if fallback != nil {
		s.postHogAnswers.count(route, "fallback")
		ctx.Response.Reset()
		posthogCORS(ctx)
		fallback(ctx)
		return
	}
	s.postHogAnswers.count(route, "unavailable")
	if errors.Is(err, errEngineAnswered) {
		relayAnswer(ctx, resp) // PostHog's own 502/503/504
		return
	}
	ctx.Response.Header.Set("Retry-After", "1")
	writeError(ctx, fasthttp.StatusServiceUnavailable, "posthog unavailable; retry later")
}

// postHogAnswers counts passed-through PostHog requests by route and
// answer: PostHog's status, "fallback" or "unavailable".
type postHogAnswers struct {
	set *metrics.Set
	mu  sync.Mutex
	c   map[[2]string]*metrics.Counter
}

func (a *postHogAnswers) count(route, answer string) {
	a.mu.Lock()
	c := a.c[[2]string{route, answer}]
	if c == nil {
		c = a.set.GetOrCreateCounter(fmt.Sprintf(`hogsend_posthog_passthrough_total{route=%q,answer=%q}`, route, answer))
		a.c[[2]string{route, answer}] = c
	}
	a.mu.Unlock()
	c.Inc()
}
