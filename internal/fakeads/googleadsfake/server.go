// Package googleadsfake is a strict fake of the Google Ads API's
// customers/{cid}:uploadClickConversions (REST) and of Google's OAuth2 token
// endpoint, for tests. It implements the fake-server checklist of
// docs/contracts/ad-platforms.md §3.8: it refuses what Google refuses (method,
// path and version, customer id, bearer token, developer-token,
// login-customer-id, JSON field names and types, partialFailure, the 2,000
// row limit) and answers row problems as Google does, with HTTP 200 and a
// partialFailureError whose errors point at conversions[N], {} placeholders
// in results, and dedup by orderId per conversion action.
package googleadsfake

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// Defaults of a fake built without options; clients under test use them.
const (
	DefaultVersion            = "v24"
	DefaultCustomerID         = "1231231234"
	DefaultConversionActionID = "123456789"
	DefaultDeveloperToken     = "DEVTOKEN"
	DefaultClientID           = "fake-client.apps.googleusercontent.com"
	DefaultClientSecret       = "fake-client-secret"
	DefaultRefreshToken       = "1//fake-refresh-token"
	// TokenPath is where the fake's OAuth2 token endpoint listens.
	TokenPath = "/token"
	// MaxConversions is Google's per-request limit.
	MaxConversions = 2000
	// DefaultTokenTTL is what Google gives an access token (expires_in).
	DefaultTokenTTL = 3599 * time.Second
)

// Rejection is one refusal: a whole request (Row -1) or one row of a
// partial failure (Status 200).
type Rejection struct {
	Status  int
	Row     int
	Code    string // "conversionUploadError.INVALID_USER_IDENTIFIER", or the gRPC status
	Message string
}

type options struct {
	versions        []string
	customerID      string
	loginCustomerID string
	developerToken  string
	actions         map[string]bool
	clientID        string
	clientSecret    string
	refreshToken    string
	tokenTTL        time.Duration
	clickWindow     time.Duration
	now             func() time.Time
}

// Option configures New.
type Option func(*options)

// WithVersions sets the API versions the fake serves (default v24, v25,
// v26); a path with an older one is answered as sunset, a newer one as an
// unknown URL.
func WithVersions(v ...string) Option { return func(c *options) { c.versions = v } }

// WithCustomerID sets the only account the credentials can reach.
func WithCustomerID(id string) Option { return func(c *options) { c.customerID = id } }

// WithLoginCustomerID requires calls through this manager account.
func WithLoginCustomerID(id string) Option { return func(c *options) { c.loginCustomerID = id } }

// WithDeveloperToken sets the accepted developer-token.
func WithDeveloperToken(tok string) Option { return func(c *options) { c.developerToken = tok } }

// WithConversionActions sets the conversion action ids that exist.
func WithConversionActions(ids ...string) Option {
	return func(c *options) {
		c.actions = map[string]bool{}
		for _, id := range ids {
			c.actions[id] = true
		}
	}
}

// WithOAuthClient sets the OAuth client and refresh token the token
// endpoint accepts.
func WithOAuthClient(clientID, secret, refreshToken string) Option {
	return func(c *options) { c.clientID, c.clientSecret, c.refreshToken = clientID, secret, refreshToken }
}

// WithTokenTTL sets expires_in of issued access tokens.
func WithTokenTTL(d time.Duration) Option { return func(c *options) { c.tokenTTL = d } }

// WithClickWindow sets the conversion action's click-through window
// (default 90 days).
func WithClickWindow(d time.Duration) Option { return func(c *options) { c.clickWindow = d } }

// WithClock sets the fake's clock (token expiry, age windows).
func WithClock(now func() time.Time) Option { return func(c *options) { c.now = now } }

// Server is the fake. URL and Close come from the embedded httptest.Server;
// the upload endpoint is URL + "/{version}/customers/{cid}:uploadClickConversions",
// the token endpoint TokenURL().
type Server struct {
	*httptest.Server
	// Script answers upload requests before any validation.
	Script *fakeads.Script
	// TokenScript answers token requests before any validation.
	TokenScript *fakeads.Script
	// Ledger counts accepted conversions by conversion action + orderId
	// (or + click id and conversionDateTime when there is no orderId).
	Ledger *fakeads.Ledger

	opts     options
	uploads  fakeads.Recorder
	tokenLog fakeads.Recorder

	mu         sync.Mutex
	tokens     map[string]time.Time // access token → expiry
	issued     int
	revoked    bool
	clicks     map[string]time.Time // click id → click time, for timing rules
	committed  map[string]bool      // dedup keys already recorded
	rejections []Rejection
	jobSeq     int64
}

// New starts a fake.
func New(with ...Option) *Server {
	o := options{
		versions:       []string{"v24", "v25", "v26"},
		customerID:     DefaultCustomerID,
		developerToken: DefaultDeveloperToken,
		actions:        map[string]bool{DefaultConversionActionID: true},
		clientID:       DefaultClientID,
		clientSecret:   DefaultClientSecret,
		refreshToken:   DefaultRefreshToken,
		tokenTTL:       DefaultTokenTTL,
		clickWindow:    90 * 24 * time.Hour,
		now:            time.Now,
	}
	for _, opt := range with {
		opt(&o)
	}
	s := &Server{
		Script:      &fakeads.Script{},
		TokenScript: &fakeads.Script{},
		Ledger:      &fakeads.Ledger{},
		opts:        o,
		tokens:      map[string]time.Time{},
		clicks:      map[string]time.Time{},
		committed:   map[string]bool{},
		jobSeq:      1 << 31, // Google generates job ids from 2^31 up
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// TokenURL is the fake OAuth2 token endpoint, for the client's token_url.
func (s *Server) TokenURL() string { return s.URL + TokenPath }

// Requests returns the upload requests received, scripted ones included.
func (s *Server) Requests() []fakeads.Request { return s.uploads.Requests() }

// TokenRequests returns the token endpoint requests received.
func (s *Server) TokenRequests() []fakeads.Request { return s.tokenLog.Requests() }

// Rejections returns every refusal so far, in order.
func (s *Server) Rejections() []Rejection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Rejection(nil), s.rejections...)
}

// ExpireTokens makes every access token issued so far expired, as if an
// hour had passed: the next upload with one gets 401 UNAUTHENTICATED.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok := range s.tokens {
		s.tokens[tok] = time.Time{}
	}
}

// RevokeRefreshToken makes the token endpoint answer invalid_grant, as
// Google does for a revoked or expired refresh token.
func (s *Server) RevokeRefreshToken() {
	s.mu.Lock()
	s.revoked = true
	s.mu.Unlock()
}

// TokensIssued is how many access tokens the token endpoint handed out.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// RegisterClick records when a click id (gclid, gbraid or wbraid) was
// clicked, so that uploads for it get Google's timing rules:
// TOO_RECENT_EVENT, CONVERSION_PRECEDES_EVENT and EXPIRED_EVENT.
func (s *Server) RegisterClick(id string, at time.Time) {
	s.mu.Lock()
	s.clicks[id] = at
	s.mu.Unlock()
}

func (s *Server) reject(r Rejection) {
	s.mu.Lock()
	s.rejections = append(s.rejections, r)
	s.mu.Unlock()
}

func (s *Server) nextJobID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobSeq++
	return strconv.FormatInt(s.jobSeq, 10)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sw := &fakeads.StatusWriter{ResponseWriter: w}
	rec, script, handle := &s.uploads, s.Script, s.upload
	if r.URL.Path == TokenPath {
		rec, script, handle = &s.tokenLog, s.TokenScript, s.token
	}
	if f, ok := script.Next(); ok {
		f.Answer(sw, r)
	} else {
		handle(sw, r, body)
	}
	rec.Add(fakeads.Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body, Status: sw.Status, At: s.opts.now(),
	})
}
