package proxy

import (
	"errors"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/translate/apikeys"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/ingest"
	"github.com/hogsend/hogsend-proxy/translate/jsontext"
	"github.com/hogsend/hogsend-proxy/translate/native"
)

// The native Hogsend data API: PUT /v1/contacts, GET /v1/contacts/find,
// DELETE /v1/contacts, POST /v1/events, with upstream's statuses and bodies.

// authenticate checks the bearer key, answering the error itself; ok is false
// when the request was answered.
func (s *Server) authenticate(ctx *fasthttp.RequestCtx) (Principal, bool) {
	p, aerr := s.auth.Authenticate(requestContext(ctx), ctx.Request.Header.Peek("Authorization"), ctx.Request.Header.Peek("Origin"), s.clientIP(ctx))
	if aerr != nil {
		if aerr.retryAfter > 0 {
			ctx.Response.Header.Set("Retry-After", strconv.Itoa(aerr.retryAfter))
		}
		if aerr.status == fasthttp.StatusTooManyRequests {
			s.tarpitAnswer()
		}
		switch {
		case aerr.raw != nil:
			ctx.SetStatusCode(aerr.status)
			ctx.SetContentType(aerr.contentType)
			ctx.SetBody(aerr.raw)
		case aerr.status == fasthttp.StatusServiceUnavailable:
			writeUnavailable(ctx, aerr.msg)
		default:
			writeError(ctx, aerr.status, aerr.msg)
		}
		return p, false
	}
	return p, true
}

// requireIngest admits secret keys with ingest (or full-admin) only.
func (s *Server) requireIngest(ctx *fasthttp.RequestCtx) (Principal, bool) {
	p, ok := s.authenticate(ctx)
	if ok && !p.CanIngest() {
		writeError(ctx, errForbidden.status, errForbidden.msg)
		return p, false
	}
	return p, ok
}

// requireIngestOrPublishable admits what requireIngest does, plus pk_ keys.
func (s *Server) requireIngestOrPublishable(ctx *fasthttp.RequestCtx) (Principal, bool) {
	p, ok := s.authenticate(ctx)
	if ok && !p.Publishable && !p.CanIngest() {
		writeError(ctx, errForbidden.status, errForbidden.msg)
		return p, false
	}
	return p, ok
}

// writeTranslateError maps translate's errors to upstream's answers.
func (s *Server) writeTranslateError(ctx *fasthttp.RequestCtx, err error) {
	var verr *native.ValidationError
	switch {
	case errors.As(err, &verr):
		writeJSON(ctx, fasthttp.StatusBadRequest, verr.AppendZodEnvelope(nil))
	case errors.Is(err, native.ErrMalformedJSON), errors.Is(err, native.ErrIdentityRequired), errors.Is(err, native.ErrTooDeep),
		errors.Is(err, ingest.ErrNoEmailForLists):
		writeError(ctx, fasthttp.StatusBadRequest, err.Error())
	case errors.Is(err, ingest.ErrTooLargeToStore):
		writeError(ctx, fasthttp.StatusRequestEntityTooLarge, err.Error())
	case errors.Is(err, ingest.ErrContactNotFound):
		writeError(ctx, fasthttp.StatusNotFound, err.Error())
	case apikeys.IsForbidden(err):
		writeError(ctx, fasthttp.StatusForbidden, err.Error())
	case ingest.IsUnavailable(err):
		s.log.Warn("request not acknowledged", "path", string(ctx.Path()), "err", err)
		writeUnavailable(ctx, unavailableReason(err))
	default:
		s.log.Error("request failed", "path", string(ctx.Path()), "err", err)
		writeError(ctx, fasthttp.StatusInternalServerError, "Internal Server Error")
	}
}

func isJSON(ctx *fasthttp.RequestCtx) bool {
	return native.IsJSONContentType(ctx.Request.Header.ContentType())
}

func (s *Server) upsertContact(ctx *fasthttp.RequestCtx) {
	p, ok := s.requireIngestOrPublishable(ctx)
	if !ok {
		return
	}
	limits := s.nativeLimits()
	parse := limits.ParseContactUpsert
	if p.Publishable {
		parse = limits.ParsePublishableContactUpsert
	}
	u, err := parse(ctx.PostBody(), isJSON(ctx))
	if err == nil && p.Publishable {
		err = apikeys.GatePublishable(u.Email, u.UserID, u.UserToken, s.userTokenSecret, time.Now())
	}
	if err != nil {
		s.writeTranslateError(ctx, err)
		return
	}
	res, err := s.ingest.UpsertContact(requestContext(ctx), u, p.Publishable)
	if err != nil {
		s.writeTranslateError(ctx, err)
		return
	}
	if s.relayEngineAnswer(ctx, res.Call, false) {
		return
	}
	b := make([]byte, 0, 96)
	b = append(b, `{"id":"`...)
	b = append(b, res.ID.String()...)
	b = append(b, `","created":`...)
	b = strconv.AppendBool(b, res.Created)
	b = append(b, `,"linked":`...)
	b = strconv.AppendBool(b, res.Linked)
	writeJSON(ctx, fasthttp.StatusOK, append(b, '}'))
}

var ingestSuspendedBody = []byte(`{"error":"ingest_suspended","message":"Event ingest is suspended for this instance (plan limit reached or billing hold). Already-accepted events are unaffected."}`)

func (s *Server) trackEvent(ctx *fasthttp.RequestCtx) {
	if s.suspended {
		writeJSON(ctx, fasthttp.StatusTooManyRequests, ingestSuspendedBody)
		return
	}
	p, ok := s.requireIngestOrPublishable(ctx)
	if !ok {
		return
	}
	limits := s.nativeLimits()
	parse, source := limits.ParseEvent, "api"
	if p.Publishable {
		parse, source = limits.ParsePublishableEvent, "inapp"
	}
	e, err := parse(ctx.PostBody(), isJSON(ctx), string(ctx.Request.Header.Peek("Idempotency-Key")))
	if err == nil && p.Publishable {
		err = apikeys.GatePublishable(e.Email, e.UserID, e.UserToken, s.userTokenSecret, time.Now())
	}
	if err != nil {
		s.writeTranslateError(ctx, err)
		return
	}
	res, err := s.ingest.TrackEvent(requestContext(ctx), e, source, p.Publishable)
	if err != nil {
		s.writeTranslateError(ctx, err)
		return
	}
	if res.Stored {
		s.metrics.eventsAccepted.Inc()
	} else {
		s.metrics.eventsDuplicate.Inc()
	}
	if s.relayEngineAnswer(ctx, res.Call, false) {
		return
	}
	b := make([]byte, 0, 96)
	b = append(b, `{"stored":`...)
	b = strconv.AppendBool(b, res.Stored)
	b = append(b, `,"exits":[],"contactKey":`...)
	b = jsontext.AppendString(b, res.ContactKey)
	if res.ListsError != "" {
		b = append(b, `,"listsError":`...)
		b = jsontext.AppendString(b, res.ListsError)
	}
	writeJSON(ctx, fasthttp.StatusAccepted, append(b, '}'))
}

func (s *Server) findContacts(ctx *fasthttp.RequestCtx) {
	if _, ok := s.requireIngest(ctx); !ok {
		return
	}
	args := ctx.QueryArgs()
	keys, err := native.FindKeys(string(args.Peek("email")), string(args.Peek("userId")))
	if err != nil {
		s.writeTranslateError(ctx, err)
		return
	}
	if s.findWithEngine(ctx) {
		return
	}
	cs, err := s.ingest.FindContacts(requestContext(ctx), keys)
	if err != nil {
		s.writeTranslateError(ctx, err)
		return
	}
	b := append(make([]byte, 0, 256), `{"contacts":[`...)
	for i := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendContact(b, &cs[i])
	}
	writeJSON(ctx, fasthttp.StatusOK, append(b, "]}"...))
}

// appendContact writes upstream's serializeContact shape.
func appendContact(b []byte, c *canonical.Contact) []byte {
	b = append(b, `{"id":"`...)
	b = append(b, c.ID.String()...)
	b = append(b, `","externalId":`...)
	b = appendNullableString(b, c.ExternalID)
	b = append(b, `,"email":`...)
	b = appendNullableString(b, c.Email)
	b = append(b, `,"properties":`...)
	if len(c.Properties) == 0 {
		b = append(b, "{}"...)
	} else {
		b = append(b, c.Properties...)
	}
	b = append(b, `,"firstSeenAt":"`...)
	b = appendISO(b, c.FirstSeenAt)
	b = append(b, `","lastSeenAt":"`...)
	b = appendISO(b, c.LastSeenAt)
	b = append(b, `","createdAt":"`...)
	b = appendISO(b, c.CreatedAt)
	b = append(b, `","updatedAt":"`...)
	b = appendISO(b, c.UpdatedAt)
	return append(b, `"}`...)
}

func appendNullableString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return jsontext.AppendString(b, s)
}

func (s *Server) deleteContacts(ctx *fasthttp.RequestCtx) {
	if _, ok := s.requireIngest(ctx); !ok {
		return
	}
	keys, err := native.ParseContactKeys(ctx.PostBody(), isJSON(ctx))
	if err != nil {
		s.writeTranslateError(ctx, err)
		return
	}
	call, err := s.ingest.DeleteContacts(requestContext(ctx), keys)
	if (err == nil || errors.Is(err, ingest.ErrContactNotFound)) && s.relayEngineAnswer(ctx, call, true) {
		return // the engine's answer: it may hold contacts the proxy never saw
	}
	if err != nil {
		s.writeTranslateError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, []byte(`{"deleted":true}`))
}

// nativeLimits bounds native records as capture's are bounded
// (HOGSEND_MAX_PROPERTIES, HOGSEND_MAX_PROPERTY_BYTES).
func (s *Server) nativeLimits() native.Limits {
	return native.Limits{MaxProperties: s.captureOpts.MaxProperties, MaxPropertyBytes: s.captureOpts.MaxPropertyBytes}
}
