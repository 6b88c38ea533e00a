package proxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// A key the proxy does not know may be the engine's: it is verified with the
// engine by GET /v1/contacts/me, which needs ingest or a publishable key
// from an allowed Origin and never answers 404, and the verdict is cached as
// the engine caches its own keys, so a key revoked in the engine stops
// working here within engineKeyTTL (docs/upstream.md § 2).
const (
	engineKeyTTL     = 60 * time.Second
	engineRefusalTTL = 5 * time.Second
	engineKeysCached = 10_000
	engineKeyPath    = "/v1/contacts/me"
)

// engineVerdict is the engine's answer about a key: a principal, or the
// refusal to pass on to the client as the engine sent it.
type engineVerdict struct {
	p       Principal
	refusal *authError
}

// engineKeys verifies keys with the engine and caches its verdicts by the
// SHA-256 of the key and, for a publishable key, the Origin it came from.
type engineKeys struct {
	up  *Upstream
	mu  sync.Mutex
	lru *lru[keyHash, engineVerdict]
}

func newEngineKeys(up *Upstream) *engineKeys {
	return &engineKeys{up: up, lru: newLRU[keyHash, engineVerdict](engineKeysCached)}
}

// verdictKey names a verdict: the key, plus the Origin for a publishable key,
// whose verdict depends on it.
func verdictKey(token, origin []byte) keyHash {
	h := sha256.New()
	h.Write(token)
	if bytes.HasPrefix(token, publishablePrefix) {
		h.Write([]byte{0})
		h.Write(origin)
	}
	var k keyHash
	h.Sum(k[:0])
	return k
}

// verify returns the engine's verdict on token from origin, cached.
func (e *engineKeys) verify(ctx context.Context, header, token, origin []byte, now time.Time) (Principal, *authError) {
	k := verdictKey(token, origin)
	e.mu.Lock()
	v, ok := e.lru.get(k, now.UnixNano())
	e.mu.Unlock()
	if ok {
		return v.p, v.refusal
	}
	verdict, err := e.up.verifyKey(ctx, header, origin, bytes.HasPrefix(token, publishablePrefix))
	if err != nil {
		return Principal{}, errAuthBackend
	}
	ttl := engineKeyTTL
	if verdict.refusal != nil {
		ttl = engineRefusalTTL
	}
	e.mu.Lock()
	e.lru.put(k, verdict, now.Add(ttl).UnixNano())
	e.mu.Unlock()
	return verdict.p, verdict.refusal
}

// verifyKey asks the engine about the key in header: 2xx makes an ingest
// principal, or a publishable one for a pk_ key; 401 or 403 is the engine's
// refusal, kept whole. Anything else, and an engine that cannot be reached,
// is an error.
func (u *Upstream) verifyKey(ctx context.Context, header, origin []byte, publishable bool) (engineVerdict, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(u.scheme + "://" + u.host + u.prefix + engineKeyPath)
	req.Header.SetMethod(fasthttp.MethodGet)
	req.Header.SetBytesV("Authorization", header)
	if len(origin) > 0 {
		req.Header.SetBytesV("Origin", origin)
	}
	_, err := u.breaker.Execute(func() (struct{}, error) { return struct{}{}, u.exchange(req, resp) })
	if err != nil {
		return engineVerdict{}, err
	}
	switch status := resp.StatusCode(); {
	case status >= 200 && status < 300 && publishable:
		return engineVerdict{p: Principal{KeyID: "engine", Scopes: []string{ScopeIngestPublic}, Publishable: true}}, nil
	case status >= 200 && status < 300:
		return engineVerdict{p: Principal{KeyID: "engine", Scopes: []string{ScopeIngest}}}, nil
	case status == fasthttp.StatusUnauthorized, status == fasthttp.StatusForbidden:
		return engineVerdict{refusal: &authError{status: status, raw: bytes.Clone(resp.Body()),
			contentType: string(resp.Header.ContentType())}}, nil
	default:
		return engineVerdict{}, fmt.Errorf("hogsend engine answered %d to a key check", status)
	}
}
