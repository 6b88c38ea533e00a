// Package linkedinfake is a strict fake of LinkedIn's Conversions API
// (docs/contracts/ad-platforms.md §5.6) for tests: it checks the method, path, headers, token,
// version and every field of every element the way LinkedIn does (or
// stricter, where a mistake would silently lose matches), answers with
// LinkedIn's status codes and bodies, and counts accepted conversions by
// LinkedIn's dedup key (conversion rule + eventId) in a Ledger.
//
// Scripted faults (Script) are answered before any validation.
package linkedinfake

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

const (
	// Path is the only endpoint LinkedIn serves for conversions.
	Path = "/rest/conversionEvents"
	// DefaultToken is the bearer token the fake accepts unless WithToken.
	DefaultToken = "fake-linkedin-token"
	// MaxBatch is LinkedIn's BATCH_CREATE limit.
	MaxBatch = 5000
	// MaxAge is LinkedIn's window for conversionHappenedAt.
	MaxAge = 90 * 24 * time.Hour
	// maxBody bounds a request body: 5,000 full elements fit well within.
	maxBody = 16 << 20
)

// Server is the fake. Its zero value is not usable: call New.
type Server struct {
	// URL is the base URL to configure as base_url.
	URL string
	// Script holds faults answered before validation.
	Script *fakeads.Script
	// Ledger counts accepted conversions by "<conversion>|<eventId>".
	Ledger *fakeads.Ledger

	srv      *httptest.Server
	rec      fakeads.Recorder
	opts     options
	mu       sync.Mutex
	rejected []Rejection
	anon     int // numbers conversions sent without eventId, which never dedup
}

// Rejection is one reason the fake refused a request (Index -1) or one of
// its elements.
type Rejection struct {
	Status  int
	Index   int    // element position, -1 for the whole request
	Field   string // JSON pointer of the faulty field, "" for request-level
	Message string
}

type options struct {
	token    string
	inactive map[string]bool
	rules    map[string]bool // nil: every well-formed rule exists
	now      func() time.Time
}

// Option configures New.
type Option func(*options)

// WithAccessToken sets the only bearer token accepted.
func WithAccessToken(token string) Option { return func(o *options) { o.token = token } }

// WithInactiveVersions makes these LinkedIn-Version values answer 426, as
// sunset versions do.
func WithInactiveVersions(versions ...string) Option {
	return func(o *options) {
		for _, v := range versions {
			o.inactive[v] = true
		}
	}
}

// WithConversionRules limits the existing CONVERSIONS_API rules to these
// ids; any other rule gets LinkedIn's 400.
func WithConversionRules(ids ...string) Option {
	return func(o *options) {
		if o.rules == nil {
			o.rules = make(map[string]bool)
		}
		for _, id := range ids {
			o.rules[id] = true
		}
	}
}

// WithClock sets the fake's clock for the 90-day window.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// New starts a fake.
func New(opts ...Option) *Server {
	o := options{token: DefaultToken, inactive: make(map[string]bool), now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	s := &Server{Script: &fakeads.Script{}, Ledger: &fakeads.Ledger{}, opts: o}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close shuts the fake down.
func (s *Server) Close() { s.srv.Close() }

// Requests returns every request received, in order, with its status.
func (s *Server) Requests() []fakeads.Request { return s.rec.Requests() }

// Rejections returns why requests and elements were refused, in order.
func (s *Server) Rejections() []Rejection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Rejection(nil), s.rejected...)
}

func (s *Server) reject(r ...Rejection) {
	s.mu.Lock()
	s.rejected = append(s.rejected, r...)
	s.mu.Unlock()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	record, err := fakeads.Receive(r, maxBody+1, time.Now())
	body := record.Body
	if s.rec.Scripted(s.Script, w, r, record) {
		return
	}
	var a answer
	if err != nil {
		a = s.fail(http.StatusBadRequest, "", "read body: "+err.Error())
	} else {
		a = s.handle(r, body)
	}
	record.Status = a.status
	s.rec.Add(record)
	a.write(w)
}

// answer is the fake's reply: a status and a JSON body, or none.
type answer struct {
	status int
	body   any
}

func (a answer) write(w http.ResponseWriter) {
	if a.body == nil {
		w.WriteHeader(a.status)
		return
	}
	fakeads.WriteJSON(w, a.status, a.body)
}

// errorBody is LinkedIn's error shape.
type errorBody struct {
	Status           int    `json:"status"`
	ServiceErrorCode int    `json:"serviceErrorCode,omitempty"`
	Code             string `json:"code,omitempty"`
	Message          string `json:"message"`
}

// fail records a request-level refusal and answers it.
func (s *Server) fail(status int, code, msg string) answer {
	s.reject(Rejection{Status: status, Index: -1, Message: msg})
	return answer{status: status, body: errorBody{Status: status, Code: code, Message: msg}}
}

// handle checks the request line and headers, then the body.
func (s *Server) handle(r *http.Request, body []byte) answer {
	if r.URL.Path != Path {
		return s.fail(http.StatusNotFound, "", "no resource at "+r.URL.Path)
	}
	if r.Method != http.MethodPost {
		return s.fail(http.StatusMethodNotAllowed, "", "method "+r.Method+" not allowed on "+Path)
	}
	if a, ok := s.checkAuth(r); !ok {
		return a
	}
	version := r.Header.Get("LinkedIn-Version")
	if !validVersion(version) || s.opts.inactive[version] {
		s.reject(Rejection{Status: http.StatusUpgradeRequired, Index: -1, Message: "inactive version " + version})
		return answer{status: http.StatusUpgradeRequired, body: errorBody{
			Status: http.StatusUpgradeRequired, Code: "NONEXISTENT_VERSION",
			Message: "Requested version " + version + " is not active",
		}}
	}
	if v := r.Header.Get("X-Restli-Protocol-Version"); v != "2.0.0" {
		return s.fail(http.StatusBadRequest, "", "X-Restli-Protocol-Version must be 2.0.0, got "+quote(v))
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return s.fail(http.StatusUnsupportedMediaType, "", "Content-Type must be application/json, got "+quote(ct))
	}
	if len(body) > maxBody {
		return s.fail(http.StatusRequestEntityTooLarge, "", "request body too large")
	}
	switch method := r.Header.Get("X-RestLi-Method"); {
	case method == "":
		return s.create(body, version)
	case strings.EqualFold(method, "BATCH_CREATE"):
		return s.batchCreate(body, version)
	default:
		return s.fail(http.StatusBadRequest, "", "unsupported X-RestLi-Method "+quote(method))
	}
}

// checkAuth wants exactly "Bearer <token>".
func (s *Server) checkAuth(r *http.Request) (answer, bool) {
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if auth == "" || !ok || tok != s.opts.token {
		msg := "Invalid access token"
		if auth == "" {
			msg = "Empty oauth2 access token"
		}
		s.reject(Rejection{Status: http.StatusUnauthorized, Index: -1, Message: msg})
		return answer{status: http.StatusUnauthorized, body: errorBody{
			Status: http.StatusUnauthorized, ServiceErrorCode: 65600, Code: "INVALID_ACCESS_TOKEN", Message: msg,
		}}, false
	}
	return answer{}, true
}

func quote(s string) string { return `"` + s + `"` }
