package main

import (
	"bytes"
	"io"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/klauspost/compress/gzip"
	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
)

// leanPostHog stands in for a PostHog project's /batch/ route as the
// mirror sends to it (docs/posthog-upstream.md § 1): it takes gzip bodies
// only, checks the project token and each event's uuid, name, distinct_id
// and timestamp, and counts each uuid once. A batch it cannot take is
// answered 400, which the mirror dead-letters and the bench reports.
type leanPostHog struct {
	*leanServer
	token string
	gz    sync.Pool // *gzip.Reader

	mu       sync.Mutex
	seen     map[uuid.UUID]struct{}
	dups     int
	refusals atomic.Int64
}

const maxLeanBatchBytes = 64 << 20

func newLeanPostHog(token string) (*leanPostHog, error) {
	p := &leanPostHog{token: token, seen: map[uuid.UUID]struct{}{}}
	srv, err := startLean(p.handle, fakeLatency)
	if err != nil {
		return nil, err
	}
	p.leanServer = srv
	return p, nil
}

func (p *leanPostHog) handle(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	if string(ctx.Method()) != fasthttp.MethodPost || string(ctx.Path()) != "/batch/" {
		p.refuse(ctx, fasthttp.StatusNotFound, `{"error":"not found"}`)
		return
	}
	raw, err := p.gunzip(ctx)
	if err != nil || !gjson.ValidBytes(raw) || gjson.GetBytes(raw, "api_key").Str != p.token {
		p.refuse(ctx, fasthttp.StatusBadRequest, `{"type":"validation_error","code":"invalid_payload"}`)
		return
	}
	ids, ok := batchUUIDs(gjson.GetBytes(raw, "batch"))
	if !ok {
		p.refuse(ctx, fasthttp.StatusBadRequest, `{"type":"validation_error","code":"invalid_event"}`)
		return
	}
	p.count(ids)
	ctx.SetBodyString(`{"status":"Ok"}`)
}

func (p *leanPostHog) gunzip(ctx *fasthttp.RequestCtx) ([]byte, error) {
	if !bytes.Equal(ctx.Request.Header.Peek("Content-Encoding"), []byte("gzip")) {
		return nil, io.ErrUnexpectedEOF
	}
	zr, _ := p.gz.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(bytes.NewReader(ctx.PostBody()))
	} else {
		err = zr.Reset(bytes.NewReader(ctx.PostBody()))
	}
	if err != nil {
		return nil, err
	}
	defer p.gz.Put(zr)
	return io.ReadAll(io.LimitReader(zr, maxLeanBatchBytes))
}

// batchUUIDs checks each event of a batch and returns their uuids.
func batchUUIDs(batch gjson.Result) ([]uuid.UUID, bool) {
	if !batch.IsArray() {
		return nil, false
	}
	var ids []uuid.UUID
	ok := true
	batch.ForEach(func(_, ev gjson.Result) bool {
		var id uuid.UUID
		id, ok = checkEvent(ev)
		ids = append(ids, id)
		return ok
	})
	return ids, ok && len(ids) > 0
}

// checkEvent reads an event's uuid, in one pass over its members, and
// checks it has a name, a distinct_id and a timestamp.
func checkEvent(ev gjson.Result) (uuid.UUID, bool) {
	var id uuid.UUID
	idOK, found := false, 0
	ev.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "uuid":
			u, err := uuid.Parse(v.Str)
			id, idOK = u, err == nil
		case "event", "distinct_id", "timestamp":
			if v.Type == gjson.String && v.Str != "" {
				found++
			}
		}
		return true
	})
	return id, idOK && found == 3
}

func (p *leanPostHog) count(ids []uuid.UUID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		if _, dup := p.seen[id]; dup {
			p.dups++
			continue
		}
		p.seen[id] = struct{}{}
	}
}

func (p *leanPostHog) refuse(ctx *fasthttp.RequestCtx, status int, body string) {
	p.refusals.Add(1)
	ctx.SetStatusCode(status)
	ctx.SetBodyString(body)
}

// Seen reports whether the event of uuid id arrived.
func (p *leanPostHog) Seen(id string) bool {
	u, err := uuid.Parse(id)
	if err != nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.seen[u]
	return ok
}

// Count is the distinct uuids taken; Duplicates the events sent again.
func (p *leanPostHog) Count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.seen)
}

func (p *leanPostHog) Duplicates() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dups
}
