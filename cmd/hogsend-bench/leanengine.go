package main

import (
	"bytes"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
)

// leanEngine stands in for a Hogsend engine on the hand-off's three routes
// (docs/upstream.md § 3): it checks the hand-off's key, the JSON body and
// its identity keys, the event name and the Idempotency-Key, stores each
// idempotency key once as the engine does, and answers with the engine's
// status and shape. Anything else is answered as a refusal, which the
// proxy dead-letters and the bench reports.
type leanEngine struct {
	*leanServer
	auth []byte

	mu       sync.Mutex
	idem     map[string]struct{}
	outage   map[int64]int // the outage load's seq → times stored
	events   atomic.Int64  // POST /v1/events received
	refusals atomic.Int64
}

func newLeanEngine(key string) (*leanEngine, error) {
	e := &leanEngine{auth: []byte("Bearer " + key), idem: map[string]struct{}{}, outage: map[int64]int{}}
	srv, err := startLean(e.handle, fakeLatency)
	if err != nil {
		return nil, err
	}
	e.leanServer = srv
	return e, nil
}

func (e *leanEngine) handle(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	if !bytes.Equal(ctx.Request.Header.Peek("Authorization"), e.auth) {
		e.refuse(ctx, fasthttp.StatusUnauthorized, `{"error":"Unauthorized"}`)
		return
	}
	body := ctx.PostBody()
	if !bytes.HasPrefix(ctx.Request.Header.ContentType(), []byte("application/json")) || !gjson.ValidBytes(body) || !hasIdentity(body) {
		e.refuse(ctx, fasthttp.StatusBadRequest, `{"error":"Invalid request body"}`)
		return
	}
	switch string(ctx.Method()) + " " + string(ctx.Path()) {
	case "POST /v1/events":
		e.ingest(ctx, body)
	case "PUT /v1/contacts":
		ctx.SetBodyString(`{"id":"` + uuid.NewString() + `","created":false,"linked":true}`)
	case "DELETE /v1/contacts":
		ctx.SetBodyString(`{"deleted":true}`)
	default:
		e.refuse(ctx, fasthttp.StatusNotFound, `{"error":"Not Found"}`)
	}
}

// hasIdentity reports a body naming a person by one of the engine's keys.
func hasIdentity(body []byte) bool {
	for _, r := range gjson.GetManyBytes(body, "userId", "email", "anonymousId") {
		if r.Type == gjson.String && r.Str != "" {
			return true
		}
	}
	return false
}

// ingest stores an event once per idempotency key and answers 202.
func (e *leanEngine) ingest(ctx *fasthttp.RequestCtx, body []byte) {
	e.events.Add(1)
	key := string(ctx.Request.Header.Peek("Idempotency-Key"))
	name := gjson.GetBytes(body, "name")
	if key == "" || name.Type != gjson.String || name.Str == "" {
		e.refuse(ctx, fasthttp.StatusBadRequest, `{"error":"Invalid request body"}`)
		return
	}
	stored := e.store(key, name.Str, body)
	ctx.SetStatusCode(fasthttp.StatusAccepted)
	if stored {
		ctx.SetBodyString(`{"stored":true,"exits":[],"contactKey":"bench"}`)
	} else {
		ctx.SetBodyString(`{"stored":false,"exits":[],"contactKey":"bench"}`)
	}
}

func (e *leanEngine) store(key, name string, body []byte) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.idem[key]; dup {
		return false
	}
	e.idem[key] = struct{}{}
	if name == outageEventName {
		e.outage[gjson.GetBytes(body, "eventProperties.seq").Int()]++
	}
	return true
}

func (e *leanEngine) refuse(ctx *fasthttp.RequestCtx, status int, body string) {
	e.refusals.Add(1)
	ctx.SetStatusCode(status)
	ctx.SetBodyString(body)
}

// storedOnce counts the outage load's events the engine stored and how
// many distinct seqs they carry: an event stored twice shows as fewer.
func (e *leanEngine) storedOnce() (stored, distinct int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, n := range e.outage {
		stored += int64(n)
		distinct++
	}
	return stored, distinct
}
