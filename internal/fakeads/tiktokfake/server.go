// Package tiktokfake is a strict fake of the TikTok Events API v1.3 for
// tests: it checks the wire contract of docs/contracts/ad-platforms.md §4 (method, path, Access-Token,
// body fields, types, units, hashing, batch size, age window) and answers
// as TikTok does, HTTP 200 with a business "code", all or nothing per
// request. Accepted events are counted by TikTok's dedup key, event +
// event_id, in a fakeads.Ledger.
package tiktokfake

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// What a Server accepts unless told otherwise.
const (
	DefaultPixelCode   = "CABCD1234567890"
	DefaultAccessToken = "tiktok-test-token"
	DefaultVersion     = "v1.3"
	DefaultMaxAge      = 7 * 24 * time.Hour
	// MaxBatch is the largest "data" array TikTok accepts.
	MaxBatch = 1000
	// maxFuture is how far ahead an event_time may be (clock skew).
	maxFuture = 5 * time.Minute
	maxBody   = 16 << 20
)

// Server is the fake. Script faults are answered before any validation.
type Server struct {
	*httptest.Server
	Script *fakeads.Script
	Ledger *fakeads.Ledger

	opts options

	rec        fakeads.Recorder
	seq        atomic.Int64
	mu         sync.Mutex
	rejections []Rejection
}

// Rejection is one request the fake refused by validation (not a scripted
// fault): the code it answered (0 for a plain HTTP error) and why.
type Rejection struct {
	Status  int
	Code    int
	Message string
}

// options are what New's Options set.
type options struct {
	pixelCode   string
	accessToken string
	path        string
	now         func() time.Time
	maxAge      time.Duration
}

// Option configures New.
type Option func(*options)

// WithPixelCode sets the only event_source_id the token may operate.
func WithPixelCode(code string) Option { return func(o *options) { o.pixelCode = code } }

// WithAccessToken sets the only Access-Token accepted.
func WithAccessToken(token string) Option { return func(o *options) { o.accessToken = token } }

// WithVersion sets the API version of the served path.
func WithVersion(v string) Option {
	return func(o *options) { o.path = "/open_api/" + v + "/event/track/" }
}

// WithClock sets the clock of the age window check.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithMaxAge sets the age window of event_time.
func WithMaxAge(d time.Duration) Option { return func(o *options) { o.maxAge = d } }

// New starts a fake; Close it when done.
func New(opts ...Option) *Server {
	s := &Server{
		Script: &fakeads.Script{},
		Ledger: &fakeads.Ledger{},
		opts:   options{pixelCode: DefaultPixelCode, accessToken: DefaultAccessToken, now: time.Now, maxAge: DefaultMaxAge},
	}
	WithVersion(DefaultVersion)(&s.opts)
	for _, o := range opts {
		o(&s.opts)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// Path is the served endpoint path, e.g. "/open_api/v1.3/event/track/".
func (s *Server) Path() string { return s.opts.path }

// Requests returns every request received, in order, faults included.
func (s *Server) Requests() []fakeads.Request { return s.rec.Requests() }

// Rejections returns the requests refused by validation, in order.
func (s *Server) Rejections() []Rejection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Rejection(nil), s.rejections...)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	rec, _ := fakeads.Receive(r, maxBody, s.opts.now())
	body := rec.Body
	if s.rec.Scripted(s.Script, w, r, rec) {
		return
	}
	// Not TikTok's JSON envelope: a wrong URL or method meets the web
	// server, not the API.
	switch {
	case r.URL.Path != s.opts.path:
		s.refuse(Rejection{Status: http.StatusNotFound, Message: "unknown path " + r.URL.Path})
		rec.Status = http.StatusNotFound
		s.rec.Add(rec)
		http.NotFound(w, r)
		return
	case r.Method != http.MethodPost:
		s.refuse(Rejection{Status: http.StatusMethodNotAllowed, Message: "method " + r.Method})
		rec.Status = http.StatusMethodNotAllowed
		s.rec.Add(rec)
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rec.Status = http.StatusOK
	s.rec.Add(rec)
	code, msg := s.process(r.Header, body)
	if code != 0 {
		s.refuse(Rejection{Status: http.StatusOK, Code: code, Message: msg})
	}
	fakeads.WriteJSON(w, http.StatusOK, answer{Code: code, Message: msg, RequestID: s.requestID()})
}

func (s *Server) refuse(r Rejection) {
	s.mu.Lock()
	s.rejections = append(s.rejections, r)
	s.mu.Unlock()
}

// answer is TikTok's envelope, success and error alike.
type answer struct {
	Code      int      `json:"code"`
	Message   string   `json:"message"`
	RequestID string   `json:"request_id"`
	Data      struct{} `json:"data"`
}

func (s *Server) requestID() string {
	return fmt.Sprintf("%s%06d", s.opts.now().UTC().Format("20060102150405"), s.seq.Add(1))
}
