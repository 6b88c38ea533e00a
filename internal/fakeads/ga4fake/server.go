// Package ga4fake is a strict fake of the GA4 Measurement Protocol for
// tests (docs/contracts/ad-platforms.md §7). Like GA4, production /mp/collect answers 204 to every
// well-addressed request, valid or not; unlike GA4 it records every
// violation it finds (Rejections) and counts only valid events in its
// Ledger, keyed by client_id|transaction_id: GA4 itself deduplicates
// nothing, so the Ledger models what a purchase report would count, and
// Total counts every accepted event including repeats.
// /debug/mp/collect runs the same checks and answers 200 with
// {"validationMessages":[…]}, recording nothing in the Ledger.
package ga4fake

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// What a Server accepts unless told otherwise.
const (
	DefaultMeasurementID = "G-TEST123456"
	DefaultAPISecret     = "ga4-test-secret"
	// MaxAge is how far back timestamp_micros may go.
	MaxAge = 72 * time.Hour
	// MaxBatch is the largest "events" array GA4 accepts.
	MaxBatch = 25
	// MaxBody is GA4's body size limit (130 kB).
	MaxBody = 130 * 1024

	CollectPath = "/mp/collect"
	DebugPath   = "/debug/mp/collect"

	maxFuture = 5 * time.Minute
	readLimit = 16 << 20
)

// Server is the fake. Script faults are answered before any validation.
type Server struct {
	*httptest.Server
	Script *fakeads.Script
	Ledger *fakeads.Ledger

	opts options

	rec        fakeads.Recorder
	total      atomic.Int64
	seq        atomic.Int64
	mu         sync.Mutex
	rejections []Rejection
}

// Rejection is one violation the fake found in a request (not a scripted
// fault). Code follows GA4's validationCode vocabulary (VALUE_INVALID,
// VALUE_REQUIRED, NAME_INVALID, NAME_RESERVED, EXCEEDED_MAX_ENTITIES, …)
// plus AUTH and METHOD for what GA4 silently drops.
type Rejection struct {
	Debug       bool // found on /debug/mp/collect
	FieldPath   string
	Code        string
	Description string
}

// options are what New's Options set.
type options struct {
	measurementID string
	apiSecret     string
	now           func() time.Time
	maxAge        time.Duration
}

// Option configures New.
type Option func(*options)

// WithMeasurementID sets the only measurement_id accepted.
func WithMeasurementID(id string) Option { return func(o *options) { o.measurementID = id } }

// WithAPISecret sets the only api_secret accepted.
func WithAPISecret(secret string) Option { return func(o *options) { o.apiSecret = secret } }

// WithClock sets the clock of the age window check.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithMaxAge sets the age window of timestamp_micros.
func WithMaxAge(d time.Duration) Option { return func(o *options) { o.maxAge = d } }

// New starts a fake; Close it when done.
func New(opts ...Option) *Server {
	s := &Server{
		Script: &fakeads.Script{},
		Ledger: &fakeads.Ledger{},
		opts:   options{measurementID: DefaultMeasurementID, apiSecret: DefaultAPISecret, now: time.Now, maxAge: MaxAge},
	}
	for _, o := range opts {
		o(&s.opts)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// Requests returns every request received, in order, faults included.
func (s *Server) Requests() []fakeads.Request { return s.rec.Requests() }

// Rejections returns every violation found, in order.
func (s *Server) Rejections() []Rejection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Rejection(nil), s.rejections...)
}

// Total is the number of valid events accepted on /mp/collect, repeats
// included (what GA4 would record, having no dedup).
func (s *Server) Total() int { return int(s.total.Load()) }

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	rec, _ := fakeads.Receive(r, readLimit, s.opts.now())
	body := rec.Body
	if s.rec.Scripted(s.Script, w, r, rec) {
		return
	}
	debug := r.URL.Path == DebugPath
	if !debug && r.URL.Path != CollectPath {
		rec.Status = http.StatusNotFound
		s.rec.Add(rec)
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		// GA4 documents POST only; the fake is stricter than GA4 and
		// refuses anything else loudly.
		s.reject(debug, []violation{{"", "METHOD", "method " + r.Method + " is not POST"}})
		rec.Status = http.StatusMethodNotAllowed
		s.rec.Add(rec)
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}

	c := checker{now: s.opts.now(), maxAge: s.opts.maxAge}
	c.query(r.URL.Query(), s.opts.measurementID, s.opts.apiSecret)
	accepted := c.body(body)
	s.reject(debug, c.violations)

	if debug {
		rec.Status = http.StatusOK
		s.rec.Add(rec)
		msgs := make([]validationMessage, 0, len(c.violations))
		for _, v := range c.violations {
			msgs = append(msgs, validationMessage{FieldPath: v.path, Description: v.desc, ValidationCode: v.code})
		}
		fakeads.WriteJSON(w, http.StatusOK, debugAnswer{ValidationMessages: msgs})
		return
	}
	for _, key := range accepted {
		if key == "" {
			key = "#" + itoa(s.seq.Add(1)) // no transaction_id: never a repeat
		}
		s.Ledger.Accept(key)
		s.total.Add(1)
	}
	rec.Status = http.StatusNoContent
	s.rec.Add(rec)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) reject(debug bool, vs []violation) {
	if len(vs) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vs {
		s.rejections = append(s.rejections, Rejection{Debug: debug, FieldPath: v.path, Code: v.code, Description: v.desc})
	}
}

type debugAnswer struct {
	ValidationMessages []validationMessage `json:"validationMessages"`
}

type validationMessage struct {
	FieldPath      string `json:"fieldPath"`
	Description    string `json:"description"`
	ValidationCode string `json:"validationCode"`
}
