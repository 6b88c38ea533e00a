package fakeengine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// maxBody bounds a request body; the engine has none, tests send far less.
const maxBody = 64 << 20

// Options configures a fake engine; the zero value is usable.
type Options struct {
	// Journeys the fake runs; an event's exits come from them.
	Journeys []Journey
	// NoRequestLog stops recording requests (Requests answers nil), for load.
	NoRequestLog bool
	// AdminKey, when set, is the legacy bearer with full-admin.
	AdminKey string
	// UserTokenSecret signs the userTokens publishable keys act on a person with.
	UserTokenSecret string
	// Lists are the code-defined lists; default DefaultLists.
	Lists []List
	// Templates are the email templates; default DefaultTemplates.
	Templates []string
	// Buckets are the bucket ids campaigns may target.
	Buckets []string
	// EmailsPerMinute is the per-key limit on /v1/emails; default 30.
	EmailsPerMinute int
	// IngestSuspended answers POST /v1/events 429 ingest_suspended.
	IngestSuspended bool
	// Now is the fake's clock; default time.Now.
	Now func() time.Time
}

// Defaults for Options.
var (
	DefaultLists = []List{
		{ID: "newsletter", Name: "Newsletter", Description: "Monthly news", DefaultOptIn: true, Kind: "topic"},
		{ID: "product-updates", Name: "Product updates", DefaultOptIn: false, Kind: "topic"},
	}
	DefaultTemplates = []string{"welcome", "receipt"}
)

const defaultEmailsPerMinute = 30

// Server is a running fake engine. Close it when done.
type Server struct {
	// Script answers the next requests (or all, while Down) with faults,
	// before authentication or validation.
	Script *fakeads.Script

	opts     Options
	routes   []*route
	journeys map[string]*Journey
	rec      fakeads.Recorder
	received atomic.Int64

	lifeMu sync.Mutex
	addr   string
	srv    *http.Server

	mu           sync.Mutex
	keys         map[string]*apiKey
	contacts     map[string]*Contact
	contactOrder []string
	columns      map[string]string // kind:value → the live contact whose own key it is
	aliases      map[string]string // kind:value → contact id
	events       []*Event
	seq          int64
	idem         map[string]string // idempotency key → event id, forever
	states       []*JourneyState
	bySubject    map[string][]*JourneyState // subject → its states, in order
	prefs        map[string]map[string]bool // email → list → opted in
	rateHits     map[string][]time.Time     // key id → /v1/emails hits in the last minute
	others       otherState
}

// New starts a fake engine on a free loopback port.
func New(opts Options) (*Server, error) {
	s := newServer(opts)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake engine: listen: %w", err)
	}
	s.addr = l.Addr().String()
	s.serve(l)
	return s, nil
}

func newServer(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Lists == nil {
		opts.Lists = DefaultLists
	}
	if opts.Templates == nil {
		opts.Templates = DefaultTemplates
	}
	if opts.EmailsPerMinute <= 0 {
		opts.EmailsPerMinute = defaultEmailsPerMinute
	}
	s := &Server{Script: &fakeads.Script{}, opts: opts, journeys: map[string]*Journey{},
		keys: map[string]*apiKey{}, contacts: map[string]*Contact{}, columns: map[string]string{},
		aliases: map[string]string{}, idem: map[string]string{}, prefs: map[string]map[string]bool{},
		rateHits: map[string][]time.Time{}, others: newOtherState(), bySubject: map[string][]*JourneyState{}}
	for i := range opts.Journeys {
		s.journeys[opts.Journeys[i].ID] = &opts.Journeys[i]
	}
	s.routes = s.routeTable()
	return s
}

func (s *Server) serve(l net.Listener) {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.lifeMu.Lock()
	s.srv = srv
	s.lifeMu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

// URL is the engine's base URL, http://127.0.0.1:port.
func (s *Server) URL() string { return "http://" + s.addr }

// Addr is host:port.
func (s *Server) Addr() string { return s.addr }

// Stop closes the listener and every connection: clients get connection
// refused until Restart. State is kept.
func (s *Server) Stop() {
	s.lifeMu.Lock()
	srv := s.srv
	s.srv = nil
	s.lifeMu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Restart listens again on the same port after Stop.
func (s *Server) Restart() error {
	s.lifeMu.Lock()
	running := s.srv != nil
	s.lifeMu.Unlock()
	if running {
		return errors.New("fake engine: restart: still running")
	}
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("fake engine: listen again on %s: %w", s.addr, err)
	}
	s.serve(l)
	return nil
}

// Close stops the fake for good.
func (s *Server) Close() { s.Stop() }

// Shutdown stops the fake after in-flight requests finish or ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.lifeMu.Lock()
	srv := s.srv
	s.srv = nil
	s.lifeMu.Unlock()
	if srv == nil {
		return nil
	}
	if err := srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("fake engine: shutdown: %w", err)
	}
	return nil
}

func (s *Server) now() time.Time { return s.opts.Now() }

func newUUID() string { return uuid.NewString() }

// ServeHTTP answers one request: a scripted fault first, else the route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.received.Add(1)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if f, scripted := s.Script.Next(); scripted {
		s.record(r, body, f.Status)
		f.Answer(w, r)
		return
	}
	a := refuse(http.StatusBadRequest, msgMalformed)
	if err == nil {
		a = s.dispatch(r, body)
	}
	s.record(r, body, a.status)
	setCORS(w, r)
	a.write(w)
}

// setCORS echoes the Origin, * without one (docs/contracts/hogsend-api.md §1.3).
func setCORS(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		origin = "*"
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
}

func (s *Server) record(r *http.Request, body []byte, status int) {
	if s.opts.NoRequestLog {
		return
	}
	s.rec.Add(fakeads.Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body, Status: status, At: s.now()})
}
