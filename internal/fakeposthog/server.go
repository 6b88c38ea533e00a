package fakeposthog

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// maxWireBody is PostHog's wire cap on v0 capture bodies; above it the
// answer is 413.
const maxWireBody = 20 << 20

// DefaultToken is the project token when Options.Token is empty.
const DefaultToken = "phc_fakeposthogproject"

// Options configures a fake project; the zero value is usable.
type Options struct {
	// Token is the project token every request must carry; default DefaultToken.
	Token string
	// NoRequestLog stops recording requests (Requests answers nil), for load.
	NoRequestLog bool
	// NoEventLog keeps only each event's uuid, for counting and
	// deduplication under load: Events answers nil, Count and Duplicates still count.
	NoEventLog bool
	// AllowMissingUUID accepts events without a uuid, giving each a new
	// UUIDv7 as capture-rs does (posthog-go sends $feature_flag_called so);
	// by default they are refused, since retries of them cannot be counted once.
	AllowMissingUUID bool
	// SessionRecording turns recording on in remote config, so posthog-js
	// loads the recorder and posts to /s/.
	SessionRecording bool
	// Now is the fake's clock for request timestamps; default time.Now.
	Now func() time.Time
}

// Server is a running fake PostHog project. Close it when done.
type Server struct {
	// Script answers the next requests (or all, while Down) with faults,
	// before any check.
	Script *fakeads.Script
	// CaptureScript answers the next capture requests (or all, while Down)
	// with faults, after the wire checks and before the payload's: flags,
	// config and the other routes stay up.
	CaptureScript *fakeads.Script

	opts      Options
	rec       fakeads.Recorder
	received  atomic.Int64
	ledger    *ledger
	refusals  refusals
	stats     batchStats
	flags     flagBook
	snapshots atomic.Int64

	addr string
	// restartMu keeps two Restarts from listening at once.
	restartMu sync.Mutex
	srv       atomic.Pointer[http.Server]
}

// New starts a fake project on a free loopback port.
func New(opts Options) (*Server, error) {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{Script: &fakeads.Script{}, CaptureScript: &fakeads.Script{}, opts: opts, ledger: newLedger(opts.NoEventLog)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake posthog: listen: %w", err)
	}
	s.addr = l.Addr().String()
	s.serve(l)
	return s, nil
}

// serve answers on l until Stop.
func (s *Server) serve(l net.Listener) {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.srv.Store(srv)
	go func() { _ = srv.Serve(l) }()
}

// URL is the base URL, http://127.0.0.1:port, for both PostHog hosts.
func (s *Server) URL() string { return "http://" + s.addr }

// Token is the project token the fake accepts.
func (s *Server) Token() string { return s.opts.Token }

// Stop closes the listener and every connection: clients get connection
// refused until Restart. What was received is kept.
func (s *Server) Stop() {
	if srv := s.srv.Swap(nil); srv != nil {
		_ = srv.Close()
	}
}

// Restart listens again on the same port after Stop.
func (s *Server) Restart() error {
	s.restartMu.Lock()
	defer s.restartMu.Unlock()
	if s.srv.Load() != nil {
		return errors.New("fake posthog: restart: still running")
	}
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("fake posthog: listen again on %s: %w", s.addr, err)
	}
	s.serve(l)
	return nil
}

// Close stops the fake for good.
func (s *Server) Close() { s.Stop() }

// answer is what a route replies.
type answer struct {
	status      int
	contentType string
	body        []byte
	header      map[string]string
}

func textAnswer(status int, text string) answer {
	return answer{status: status, contentType: "text/plain; charset=utf-8", body: []byte(text)}
}

func jsonAnswer(status int, body []byte) answer {
	return answer{status: status, contentType: "application/json", body: body}
}

// answer is the refusal as text, or as JSON when its text is JSON.
func (r *refusal) answer() answer { return bodyAnswer(r.status, r.text) }

// bodyAnswer answers text, typed JSON when it is a JSON object.
func bodyAnswer(status int, text string) answer {
	if strings.HasPrefix(text, "{") {
		return jsonAnswer(status, []byte(text))
	}
	return textAnswer(status, text)
}

// okBody is PostHog's success answer, which the proxy gives too
// (docs/contracts/posthog-capture.md §7.1).
var okBody = []byte(`{"status":"Ok"}`)

// ServeHTTP answers one request: a scripted fault first, else the route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.received.Add(1)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWireBody+1))
	if f, scripted := s.Script.Next(); scripted {
		s.record(r, body, f.Status)
		setCORS(w, r)
		f.Answer(w, r)
		return
	}
	var a answer
	switch {
	case err != nil:
		a = textAnswer(http.StatusBadRequest, "failed to read request body")
	case len(body) > maxWireBody:
		a = textAnswer(http.StatusRequestEntityTooLarge, "request body larger than 20 MB")
	case r.Method == http.MethodOptions:
		a = jsonAnswer(http.StatusOK, okBody)
	default:
		a = s.route(r, body)
	}
	s.record(r, body, a.status)
	if a.status == 0 {
		return // a hanging fault whose client gave up
	}
	setCORS(w, r)
	a.write(w)
}

func (a answer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	if a.contentType != "" {
		w.Header().Set("Content-Type", a.contentType)
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// setCORS answers as capture-rs does: origin and requested headers
// mirrored, credentials allowed (docs/contracts/posthog-capture.md §1.1).
func setCORS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if origin := r.Header.Get("Origin"); origin != "" {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
	} else {
		h.Set("Access-Control-Allow-Origin", "*")
	}
	if r.Method != http.MethodOptions {
		return
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	if asked := r.Header.Get("Access-Control-Request-Headers"); asked != "" {
		h.Set("Access-Control-Allow-Headers", asked)
	}
}

func (s *Server) record(r *http.Request, body []byte, status int) {
	if s.opts.NoRequestLog {
		return
	}
	s.rec.Add(fakeads.Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body, Status: status, At: s.opts.Now()})
}
