package proxy

import (
	"context"

	"github.com/google/uuid"
	"github.com/valyala/fasthttp"
)

// HandOff is the hand-off of stored records to the Hogsend engine as the
// edge sees it: native writes wait for the engine's answer to the call
// delivered for them (docs/upstream.md § 4).
type HandOff interface {
	// Sync reports HOGSEND_UPSTREAM_MODE=sync: upserts and events wait too,
	// not only deletes.
	Sync() bool
	// Await waits up to HOGSEND_UPSTREAM_SYNC_TIMEOUT; ok is false when the
	// engine did not answer in time.
	Await(ctx context.Context, call uuid.UUID) (EngineAnswer, bool)
	// Authorization is the hand-off's own Authorization header value: the
	// proxy's keys are unknown to the engine.
	Authorization() string
}

// EngineAnswer is the engine's answer, relayed as it came.
type EngineAnswer struct {
	Status      int
	ContentType string
	Body        []byte
}

// relayEngineAnswer answers with the engine's answer to call when it comes
// in time; false leaves the request to be answered from the proxy's state.
func (s *Server) relayEngineAnswer(ctx *fasthttp.RequestCtx, call uuid.UUID, always bool) bool {
	if s.handoff == nil || call == uuid.Nil || !always && !s.handoff.Sync() {
		return false
	}
	a, ok := s.handoff.Await(requestContext(ctx), call)
	if !ok {
		s.metrics.engineAnswer("timeout")
		return false
	}
	s.metrics.engineAnswer("relayed")
	ctx.SetStatusCode(a.Status)
	if a.ContentType != "" {
		ctx.SetContentType(a.ContentType)
	}
	ctx.SetBody(a.Body)
	return true
}

// findWithEngine answers GET /v1/contacts/find with the engine's answer: it
// holds contacts the proxy never saw (imports, webhooks, dashboard edits).
// The client's key was checked here; the engine gets the hand-off's. False
// when the engine cannot answer now, or refuses: the proxy answers from its
// own state.
func (s *Server) findWithEngine(ctx *fasthttp.RequestCtx) bool {
	u := s.upstream
	if u == nil || s.handoff == nil {
		return false
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	u.outgoing(ctx, req, s.forwardedFor(ctx))
	req.Header.Set("Authorization", s.handoff.Authorization())
	if _, err := u.breaker.Execute(func() (struct{}, error) { return struct{}{}, u.exchange(req, resp) }); err != nil {
		s.metrics.upstream("unavailable")
		return false
	}
	if code := resp.StatusCode(); code < 200 || code > 299 {
		// The client's query passed the proxy's checks: a refusal is the
		// hand-off key's (revoked, no ingest), not the client's to see.
		s.log.Warn("hogsend engine refused a contacts find; answered from the proxy's state", "status", code)
		s.metrics.upstream("refused")
		return false
	}
	s.metrics.upstream("relayed")
	relayAnswer(ctx, resp)
	return true
}
