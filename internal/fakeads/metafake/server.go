// Package metafake is a strict fake of the Meta Conversions API for tests
// (docs/contracts/ad-platforms.md §2.8): it checks the method, path, token and every event the way
// Meta does, refuses a whole request for one bad event, counts accepted
// events by Meta's dedup key (event_name + event_id), and answers scripted
// faults before any of that.
package metafake

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// MaxBatch is Meta's limit of events per request.
const MaxBatch = 1000

// Defaults of a fake built without options: like Meta, the fake knows one
// pixel and one token, and refuses every other.
const (
	DefaultPixelID     = "1234567890"
	DefaultAccessToken = "meta-test-token"
)

// maxBody bounds a request body; Graph refuses far smaller ones anyway.
const maxBody = 32 << 20

// Server is a running fake. Close it when done.
type Server struct {
	*httptest.Server // URL, Close

	// Script answers the next requests (or all, while Down) with faults,
	// before any validation.
	Script *fakeads.Script
	// Ledger counts live events by event_name + event_id, first arrival
	// wins; TestLedger counts those sent with a test_event_code, which Meta
	// keeps out of live attribution.
	Ledger     *fakeads.Ledger
	TestLedger *fakeads.Ledger

	opts options
	rec  fakeads.Recorder

	mu         sync.Mutex
	rejections []Rejection
	events     []Event
	noID       int // events without event_id, each counted once
}

// Rejection is why the fake refused a request (scripted faults excluded).
type Rejection struct {
	Status  int
	Code    int
	Subcode int
	Title   string // error_user_title, or the message
	Detail  string // error_user_msg
}

type options struct {
	pixelID    string
	token      string
	apiVersion string
	now        func() time.Time
}

// Option configures New.
type Option func(*options)

// WithPixelID makes id the only existing pixel; others get code 100/33.
func WithPixelID(id string) Option { return func(o *options) { o.pixelID = id } }

// WithAccessToken makes token the only valid one; others get code 190.
func WithAccessToken(token string) Option { return func(o *options) { o.token = token } }

// WithAPIVersion makes v (e.g. "v25.0") the only live Graph version; any
// other vNN.N is answered as retired (code 2635).
func WithAPIVersion(v string) Option { return func(o *options) { o.apiVersion = v } }

// WithClock sets the clock the age window is checked against.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// New starts a fake. Without options it knows DefaultPixelID and
// DefaultAccessToken only, and accepts any vNN.N version.
func New(opts ...Option) *Server {
	s := &Server{
		Script:     &fakeads.Script{},
		Ledger:     &fakeads.Ledger{},
		TestLedger: &fakeads.Ledger{},
		opts:       options{pixelID: DefaultPixelID, token: DefaultAccessToken, now: time.Now},
	}
	for _, o := range opts {
		o(&s.opts)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Requests returns every request received, scripted ones included.
func (s *Server) Requests() []fakeads.Request { return s.rec.Requests() }

// Rejections returns why requests were refused, in order.
func (s *Server) Rejections() []Rejection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Rejection(nil), s.rejections...)
}

// Events returns every accepted event (duplicates included), in order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	req, err := fakeads.Receive(r, maxBody, s.opts.now())
	body := req.Body
	if s.rec.Scripted(s.Script, w, r, req) {
		return
	}
	if err != nil {
		req.Status = http.StatusBadRequest
		s.rec.Add(req)
		s.refuse(w, http.StatusBadRequest, invalidParam(SubcodeInvalid, "Unreadable Body", err.Error()))
		return
	}

	batch, status, gerr := s.check(r, body)
	if gerr != nil {
		req.Status = status
		s.rec.Add(req)
		s.refuse(w, status, *gerr)
		return
	}
	req.Status = http.StatusOK
	s.rec.Add(req)
	s.accept(batch)
	fakeads.WriteJSON(w, http.StatusOK, success{EventsReceived: len(batch.events), Messages: []string{}, FBTraceID: "FakeTrace"})
}

type success struct {
	EventsReceived int      `json:"events_received"`
	Messages       []string `json:"messages"`
	FBTraceID      string   `json:"fbtrace_id"`
}

func (s *Server) refuse(w http.ResponseWriter, status int, e GraphError) {
	title := e.UserTitle
	if title == "" {
		title = e.Message
	}
	s.mu.Lock()
	s.rejections = append(s.rejections, Rejection{Status: status, Code: e.Code, Subcode: e.Subcode, Title: title, Detail: e.UserMsg})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, e.Body())
}

// accept counts a valid request's events; Meta takes all or none.
func (s *Server) accept(b checkedBatch) {
	ledger := s.Ledger
	if b.testEventCode != "" {
		ledger = s.TestLedger
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range b.events {
		ev.TestEventCode = b.testEventCode
		key := ev.Name + "/" + ev.ID
		if ev.ID == "" {
			// Meta cannot deduplicate an event without event_id.
			s.noID++
			key = ev.Name + "/#" + strconv.Itoa(s.noID)
		}
		ledger.Accept(key)
		s.events = append(s.events, ev)
	}
}
