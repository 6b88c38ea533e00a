package proxy

import (
	"bytes"
	"context"
	"crypto/subtle"
	"slices"
	"sync"
	"time"

	"github.com/hogsend/hogsend-proxy/translate"
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

// authError is an auth failure with upstream's status and message.
type authError struct {
	status int
	msg    string
}

var (
	errUnauthorized = &authError{401, "Unauthorized"}
	errKeyExpired   = &authError{401, "API key expired"}
	errForbidden    = &authError{403, "Forbidden: insufficient scope"}
	errOrigin       = &authError{403, "Forbidden: origin not allowed"}
	errAuthBackend  = &authError{503, "authentication backend unavailable"}
)

// Authenticator checks bearer keys against hashed stored keys, caching lookups
// for 60 s like upstream (so a revoked key may work for up to a minute).
type Authenticator struct {
	adminKey []byte
	keys     KeyLookup
	ttl      time.Duration
	now      func() time.Time

	mu    sync.RWMutex
	cache map[string]cachedKey
}

type cachedKey struct {
	key     canonical.APIKey
	found   bool
	expires time.Time
}

// NewAuthenticator returns an Authenticator; adminKey may be empty.
func NewAuthenticator(adminKey string, keys KeyLookup) *Authenticator {
	return &Authenticator{
		adminKey: []byte(adminKey), keys: keys, ttl: 60 * time.Second, now: time.Now,
		cache: make(map[string]cachedKey),
	}
}

var bearerPrefix = []byte("Bearer ")

var publishablePrefix = []byte("pk_")

// Authenticate checks the Authorization header value. The "Bearer " prefix is
// case-sensitive, as upstream's startsWith check is. origin is the request's
// Origin header, which a publishable key must be allowed to come from.
func (a *Authenticator) Authenticate(ctx context.Context, header, origin []byte) (Principal, *authError) {
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
	hash := translate.HashAPIKey(string(token))
	now := a.now()
	a.mu.RLock()
	c, ok := a.cache[hash]
	a.mu.RUnlock()
	if !ok || now.After(c.expires) {
		k, found, err := a.keys.APIKey(ctx, hash)
		if err != nil {
			return Principal{}, errAuthBackend
		}
		c = cachedKey{key: k, found: found, expires: now.Add(a.ttl)}
		a.mu.Lock()
		if len(a.cache) > 100000 {
			// Unknown keys are cached too; bound the map against key-guessing floods.
			a.cache = make(map[string]cachedKey)
		}
		a.cache[hash] = c
		a.mu.Unlock()
	}
	if !c.found || c.key.RevokedAt != 0 {
		return Principal{}, errUnauthorized
	}
	if c.key.ExpiresAt != 0 && now.UnixMilli() >= c.key.ExpiresAt {
		return Principal{}, errKeyExpired
	}
	p := Principal{KeyID: c.key.Prefix, Scopes: c.key.Scopes}
	if bytes.HasPrefix(token, publishablePrefix) {
		// A browser key carries only ingest-public; one that also holds a secret
		// scope is refused rather than trusted.
		if !p.has(ScopeIngestPublic) || p.has(ScopeIngest) || p.has(ScopeFullAdmin) {
			return Principal{}, errForbidden
		}
		if len(origin) == 0 || !slices.Contains(c.key.AllowedOrigins, string(origin)) {
			return Principal{}, errOrigin
		}
		p.Publishable = true
	}
	return p, nil
}
