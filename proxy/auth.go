package proxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// Scopes, as upstream names them.
const (
	ScopeRead         = "read"
	ScopeJourneyAdmin = "journey-admin"
	ScopeFullAdmin    = "full-admin"
	ScopeIngest       = "ingest"
	ScopeIngestPublic = "ingest-public"
)

// KeyLookup finds a stored API key by the hex SHA-256 of the secret.
type KeyLookup interface {
	APIKey(ctx context.Context, hash string) (canonical.APIKey, bool, error)
}

// Principal is an authenticated caller.
type Principal struct {
	KeyID       string // key prefix, or "legacy" for the admin key
	Scopes      []string
	Publishable bool // a pk_ browser key, already checked against the Origin
}

func (p *Principal) has(scope string) bool {
	for _, s := range p.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// CanIngest: an explicit ingest grant, or full-admin. read and journey-admin do
// not include ingest, and publishable keys never pass it.
func (p *Principal) CanIngest() bool {
	return !p.Publishable && (p.has(ScopeIngest) || p.has(ScopeFullAdmin))
}

// IsAdmin reports the full-admin scope.
func (p *Principal) IsAdmin() bool { return p.has(ScopeFullAdmin) }

// authError is an auth failure with upstream's status and message;
// retryAfter (whole seconds) is sent as Retry-After when set.
type authError struct {
	status     int
	msg        string
	retryAfter int
	// raw, when set, is the engine's own answer body, sent as it came with
	// contentType instead of {"error": msg}.
	raw         []byte
	contentType string
}

var (
	errUnauthorized = &authError{status: 401, msg: "Unauthorized"}
	errKeyExpired   = &authError{status: 401, msg: "API key expired"}
	errForbidden    = &authError{status: 403, msg: "Forbidden: insufficient scope"}
	errOrigin       = &authError{status: 403, msg: "Forbidden: origin not allowed"}
	errAuthBackend  = &authError{status: 503, msg: "authentication backend unavailable"}
)

// errThrottled answers a client network past its failed-authentication limit.
func errThrottled(wait time.Duration) *authError {
	return &authError{status: 429, msg: "Too many failed authentication attempts", retryAfter: int(max((wait+time.Second-1)/time.Second, 1))}
}

// Bounds of the auth caches and the failed-auth throttle.
const (
	authCacheTTL      = 60 * time.Second // a found key, as upstream caches it
	authCacheKeys     = 10_000
	authNegativeTTL   = 5 * time.Second
	authNegativeKeys  = 1 << 16
	authMaxFailures   = 30
	authFailureWindow = time.Minute
	authThrottledNets = 1 << 16
)

// Authenticator checks bearer keys against hashed stored keys. Found keys are
// cached for 60 s like upstream (so a revoked key may work on another instance
// for up to a minute) in an LRU of their own, and unknown ones for a few
// seconds in another, so a flood of made-up keys never evicts a real one.
// A client network with too many failures is refused for the rest of the
// window without a store lookup; keys already cached still work from it.
type Authenticator struct {
	adminKey    []byte
	keys        KeyLookup
	ttl         time.Duration
	negativeTTL time.Duration
	clock       atomic.Pointer[func() time.Time]
	throttle    *failureThrottle

	foundMu   sync.Mutex
	found     *lru[keyHash, canonical.APIKey]
	unknownMu sync.Mutex
	unknown   *lru[keyHash, struct{}]
	// engine, when set, verifies the keys the store does not know.
	engine *engineKeys
}

// VerifyWithEngine makes the Authenticator ask up about the keys the store
// does not know (docs/upstream.md § 2).
func (a *Authenticator) VerifyWithEngine(up *Upstream) { a.engine = newEngineKeys(up) }

// keyHash is the SHA-256 of a presented key, the cache's key.
type keyHash [sha256.Size]byte

// NewAuthenticator returns an Authenticator; adminKey may be empty.
func NewAuthenticator(adminKey string, keys KeyLookup) *Authenticator {
	a := &Authenticator{
		adminKey: []byte(adminKey), keys: keys, ttl: authCacheTTL, negativeTTL: authNegativeTTL,
		throttle: newFailureThrottle(authMaxFailures, authFailureWindow, authThrottledNets),
		found:    newLRU[keyHash, canonical.APIKey](authCacheKeys),
		unknown:  newLRU[keyHash, struct{}](authNegativeKeys),
	}
	a.SetClock(time.Now)
	return a
}

// SetClock replaces the clock the key caches expire by: tests move it past
// the 60 s bound instead of sleeping through it.
func (a *Authenticator) SetClock(now func() time.Time) { a.clock.Store(&now) }

func (a *Authenticator) now() time.Time { return (*a.clock.Load())() }

var bearerPrefix = []byte("Bearer ")

var publishablePrefix = []byte("pk_")

// Authenticate checks the Authorization header value. The "Bearer " prefix is
// case-sensitive, as upstream's startsWith check is. origin is the request's
// Origin header, which a publishable key must be allowed to come from; ip is
// the client address failures are counted under.
func (a *Authenticator) Authenticate(ctx context.Context, header, origin []byte, ip string) (Principal, *authError) {
	if !bytes.HasPrefix(header, bearerPrefix) {
		return Principal{}, errUnauthorized
	}
	token := header[len(bearerPrefix):]
	if len(token) == 0 {
		return Principal{}, errUnauthorized
	}
	if len(a.adminKey) > 0 && subtle.ConstantTimeCompare(token, a.adminKey) == 1 {
		return Principal{KeyID: "legacy", Scopes: []string{ScopeFullAdmin}}, nil
	}
	h := keyHash(sha256.Sum256(token))
	now := a.now()
	k, ok := a.cached(h, now)
	if !ok {
		if wait := a.throttle.blocked(ip, now); wait > 0 {
			return Principal{}, errThrottled(wait)
		}
		var aerr *authError
		if k, aerr = a.lookup(ctx, h, now); aerr == errUnauthorized && a.engine != nil {
			return a.engineVerdict(ctx, header, token, origin, ip, now)
		}
		if aerr != nil {
			if aerr == errUnauthorized {
				a.throttle.fail(ip, now)
			}
			return Principal{}, aerr
		}
	}
	p, aerr := admit(&k, token, origin, now)
	if aerr == errUnauthorized || aerr == errKeyExpired {
		a.throttle.fail(ip, now)
	}
	return p, aerr
}

// engineVerdict is the engine's verdict on a key the store does not know;
// a refusal counts as a failed authentication.
func (a *Authenticator) engineVerdict(ctx context.Context, header, token, origin []byte, ip string, now time.Time) (Principal, *authError) {
	p, aerr := a.engine.verify(ctx, header, token, origin, now)
	if aerr != nil && aerr.status != errAuthBackend.status {
		a.throttle.fail(ip, now)
	}
	return p, aerr
}

// cached returns a found key from the cache.
func (a *Authenticator) cached(h keyHash, now time.Time) (canonical.APIKey, bool) {
	a.foundMu.Lock()
	defer a.foundMu.Unlock()
	if k, ok := a.found.get(h, now.UnixNano()); ok {
		return *k, true
	}
	return canonical.APIKey{}, false
}

// lookup asks the store for a key not in the found cache, unless it was
// unknown a moment ago, and caches the answer.
func (a *Authenticator) lookup(ctx context.Context, h keyHash, now time.Time) (canonical.APIKey, *authError) {
	ns := now.UnixNano()
	a.unknownMu.Lock()
	_, unknown := a.unknown.get(h, ns)
	a.unknownMu.Unlock()
	if unknown {
		return canonical.APIKey{}, errUnauthorized
	}
	k, found, err := a.keys.APIKey(ctx, hex.EncodeToString(h[:]))
	if err != nil {
		return k, errAuthBackend
	}
	if !found {
		a.unknownMu.Lock()
		a.unknown.put(h, struct{}{}, ns+int64(a.negativeTTL))
		a.unknownMu.Unlock()
		return k, errUnauthorized
	}
	a.foundMu.Lock()
	a.found.put(h, k, ns+int64(a.ttl))
	a.foundMu.Unlock()
	return k, nil
}

// Forget drops a key (by its hex SHA-256) from the caches, so that a
// revocation applies on this instance at once.
func (a *Authenticator) Forget(hash string) {
	var h keyHash
	if n, err := hex.Decode(h[:], []byte(hash)); err != nil || n != len(h) {
		return
	}
	a.foundMu.Lock()
	a.found.remove(h)
	a.foundMu.Unlock()
}

// admit turns a stored key into a Principal, or says why it may not act.
func admit(k *canonical.APIKey, token, origin []byte, now time.Time) (Principal, *authError) {
	if k.RevokedAt != 0 {
		return Principal{}, errUnauthorized
	}
	if k.ExpiresAt != 0 && now.UnixMilli() >= k.ExpiresAt {
		return Principal{}, errKeyExpired
	}
	p := Principal{KeyID: k.Prefix, Scopes: k.Scopes}
	if bytes.HasPrefix(token, publishablePrefix) {
		// A browser key carries only ingest-public; one that also holds a secret
		// scope is refused rather than trusted.
		if !p.has(ScopeIngestPublic) || p.has(ScopeIngest) || p.has(ScopeFullAdmin) {
			return Principal{}, errForbidden
		}
		if len(origin) == 0 || !slices.Contains(k.AllowedOrigins, string(origin)) {
			return Principal{}, errOrigin
		}
		p.Publishable = true
	}
	return p, nil
}
