package fakeengine

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Scopes a key may hold (docs/contracts/hogsend-api.md §2.3).
const (
	ScopeRead          = "read"
	ScopeJourneyAdmin  = "journey-admin"
	ScopeFullAdmin     = "full-admin"
	ScopeIngest        = "ingest"
	ScopeIngestPublic  = "ingest-public"
	ScopeReferrals     = "referrals"
	publishablePrefix  = "pk_"
	secretPrefix       = "hsk_"
	legacyAdminKeyID   = "legacy"
	keyRandomBytes     = 32
	keyDisplayPrefixes = 8
)

// apiKey is a stored key: only its SHA-256 in lower-case hex, as the engine
// keeps it (docs/contracts/hogsend-api.md §2.1).
type apiKey struct {
	id          string
	hash        string
	prefix      string
	scopes      []string
	origins     []string
	publishable bool
	revoked     bool
	expiresAt   time.Time // zero: never
}

// principal is who a request authenticated as.
type principal struct {
	keyID       string
	scopes      []string
	origins     []string
	publishable bool
}

func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func newKeyText(prefix string) string {
	b := make([]byte, keyRandomBytes)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// MintKey creates a secret hsk_ key with scopes and returns it; the fake
// keeps only its hash.
func (s *Server) MintKey(scopes ...string) string {
	key := newKeyText(secretPrefix)
	s.storeKey(&apiKey{scopes: slices.Clone(scopes)}, key)
	return key
}

// MintPublishable creates a pk_ browser key allowed from origins (exact
// match), with the ingest-public scope.
func (s *Server) MintPublishable(origins ...string) string {
	key := newKeyText(publishablePrefix)
	s.storeKey(&apiKey{scopes: []string{ScopeIngestPublic}, origins: slices.Clone(origins), publishable: true}, key)
	return key
}

func (s *Server) storeKey(k *apiKey, key string) {
	k.hash = hashKey(key)
	k.prefix = key[:min(len(key), keyDisplayPrefixes)]
	s.mu.Lock()
	k.id = newUUID()
	s.keys[k.hash] = k
	s.mu.Unlock()
}

// Revoke revokes key at once: the fake has no key cache, so the next
// request with it is refused (the proxy's bound is what tests measure).
func (s *Server) Revoke(key string) {
	s.mu.Lock()
	if k := s.keys[hashKey(key)]; k != nil {
		k.revoked = true
	}
	s.mu.Unlock()
}

// Expire makes key past its expiry from now on: 401 "API key expired".
func (s *Server) Expire(key string) {
	s.mu.Lock()
	if k := s.keys[hashKey(key)]; k != nil {
		k.expiresAt = s.now().Add(-time.Second)
	}
	s.mu.Unlock()
}

// guard is what a route needs of the caller (docs/contracts/hogsend-api.md §2.3).
type guard int

const (
	guardNone            guard = iota // webhooks, tracking, health: their own auth
	guardIngestOrBrowser              // ingest, or a publishable key from an allowed Origin
	guardIngest                       // ingest only
	guardAdmin                        // full-admin
	guardReferrals                    // the referrals scope
)

// authenticate is the engine's requireApiKey plus the route's scope check.
func (s *Server) authenticate(r *http.Request, g guard) (principal, *answer) {
	if g == guardNone {
		return principal{}, nil
	}
	p, a := s.lookupKey(r)
	if a != nil {
		return p, a
	}
	if p.publishable {
		return p, admitPublishable(r, p, g)
	}
	if !hasScope(p.scopes, requiredScope(g)) {
		a := refuse(http.StatusForbidden, msgScope)
		return p, &a
	}
	return p, nil
}

// lookupKey finds the bearer's key: a literal, case-sensitive "Bearer "
// prefix, then the SHA-256 of whatever follows.
func (s *Server) lookupKey(r *http.Request) (principal, *answer) {
	header := r.Header.Get("Authorization")
	token, isBearer := strings.CutPrefix(header, "Bearer ")
	if !isBearer || token == "" {
		a := refuse(http.StatusUnauthorized, msgUnauthorized)
		return principal{}, &a
	}
	if s.opts.AdminKey != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.AdminKey)) == 1 {
		return principal{keyID: legacyAdminKeyID, scopes: []string{ScopeFullAdmin}}, nil
	}
	h := hashKey(token)
	s.mu.Lock()
	k := s.keys[h]
	var p principal
	var expired bool
	if k != nil && !k.revoked {
		p = principal{keyID: k.id, scopes: k.scopes, origins: k.origins, publishable: strings.HasPrefix(token, publishablePrefix)}
		expired = !k.expiresAt.IsZero() && !s.now().Before(k.expiresAt)
	}
	s.mu.Unlock()
	switch {
	case k == nil || k.revoked:
		a := refuse(http.StatusUnauthorized, msgUnauthorized)
		return p, &a
	case expired:
		a := refuse(http.StatusUnauthorized, msgKeyExpired)
		return p, &a
	}
	return p, nil
}

// admitPublishable: a pk_ key holds ingest-public and nothing that would
// make it a secret key, and comes from one of its origins.
func admitPublishable(r *http.Request, p principal, g guard) *answer {
	if g != guardIngestOrBrowser || !slices.Contains(p.scopes, ScopeIngestPublic) ||
		slices.Contains(p.scopes, ScopeIngest) || slices.Contains(p.scopes, ScopeFullAdmin) {
		a := refuse(http.StatusForbidden, msgScope)
		return &a
	}
	origin := r.Header.Get("Origin")
	if origin == "" || !slices.Contains(p.origins, origin) {
		a := refuse(http.StatusForbidden, msgOrigin)
		return &a
	}
	return nil
}

func requiredScope(g guard) string {
	switch g {
	case guardAdmin:
		return ScopeFullAdmin
	case guardReferrals:
		return ScopeReferrals
	default:
		return ScopeIngest
	}
}

var scopeRank = map[string]int{ScopeRead: 1, ScopeJourneyAdmin: 2, ScopeFullAdmin: 3}

// hasScope: read < journey-admin < full-admin are ranked; ingest and the
// other separate scopes need their own grant, or full-admin.
func hasScope(held []string, need string) bool {
	if slices.Contains(held, need) || slices.Contains(held, ScopeFullAdmin) {
		return true
	}
	rank, ranked := scopeRank[need]
	if !ranked {
		return false
	}
	for _, h := range held {
		if scopeRank[h] >= rank {
			return true
		}
	}
	return false
}
