// Package redditfake is a strict fake of the Reddit Conversions API v3 for
// tests (docs/contracts/ad-platforms.md §6.2–§6.6). It refuses everything the real API
// refuses and, where Reddit would silently accept a mistake (seconds in
// event_at, an unhashed identifier, sha256(""), a hashed plain field, an
// unknown field), refuses that too, so client bugs fail tests.
package redditfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// Defaults of a fake built without options.
const (
	DefaultPixelID = "a2_abc123"
	DefaultToken   = "test-conversion-token"
)

// maxBody bounds a request body: 1,000 full events are well under it.
const maxBody = 8 << 20

// options are what New's Options set.
type options struct {
	pixelID string
	token   string
	now     func() time.Time
}

// Option configures a fake.
type Option func(*options)

// WithPixelID sets the pixel the fake knows; other pixels get 404.
func WithPixelID(id string) Option { return func(o *options) { o.pixelID = id } }

// WithAccessToken sets the conversion token the fake accepts.
func WithAccessToken(token string) Option { return func(o *options) { o.token = token } }

// WithClock sets the fake's clock, against which age windows are checked.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Server is the fake. Script faults are answered before any validation.
type Server struct {
	*httptest.Server
	// Script holds scripted faults (429, 5xx, auth) and outages.
	Script *fakeads.Script
	// Ledger counts accepted live conversions by conversion_id; test events
	// (data.test_id) are not counted, as on Reddit.
	Ledger *fakeads.Ledger

	opts options
	rec  fakeads.Recorder

	mu         sync.Mutex
	rejections []Rejection
	testEvents []TestEvent
}

// Rejection is one refusal: of the whole request (Event -1) or of one event.
type Rejection struct {
	Status int
	Event  int // index in data.events, -1 for the whole request
	Reason string
}

// TestEvent is an event accepted under data.test_id (not counted).
type TestEvent struct {
	TestID       string
	ConversionID string
}

// New starts a fake; Close it when done.
func New(opts ...Option) *Server {
	s := &Server{
		Script: &fakeads.Script{},
		Ledger: &fakeads.Ledger{},
		opts:   options{pixelID: DefaultPixelID, token: DefaultToken, now: time.Now},
	}
	for _, o := range opts {
		o(&s.opts)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// Path is the endpoint the fake serves.
func (s *Server) Path() string { return "/api/v3/pixels/" + s.opts.pixelID + "/conversion_events" }

// Requests returns every request received, with the status answered.
func (s *Server) Requests() []fakeads.Request { return s.rec.Requests() }

// Rejections returns why the fake's validation refused requests or events,
// in order (scripted faults are not refusals and are not listed).
func (s *Server) Rejections() []Rejection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Rejection(nil), s.rejections...)
}

// TestEvents returns the events accepted in test mode.
func (s *Server) TestEvents() []TestEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]TestEvent(nil), s.testEvents...)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	sw := &fakeads.StatusWriter{ResponseWriter: w}
	if f, ok := s.Script.Next(); ok {
		f.Answer(sw, r)
	} else {
		s.serve(sw, r, raw)
	}
	s.rec.Add(fakeads.Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: raw, Status: sw.Status, At: s.opts.now(),
	})
}

// serve validates in the order a real API does: route, auth, pixel, body.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, raw []byte) {
	pixel, ok := route(r.URL.Path)
	if !ok {
		s.refuse(w, -1, http.StatusNotFound, "no route "+r.URL.Path, notFound("no such endpoint"))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.refuse(w, -1, http.StatusMethodNotAllowed, "method "+r.Method, message("method not allowed"))
		return
	}
	auth := r.Header.Get("Authorization")
	token, bearer := strings.CutPrefix(auth, "Bearer ")
	if !bearer || token == "" {
		// Reddit's answer without a usable token is plain text.
		s.reject(-1, http.StatusUnauthorized, "missing bearer token")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "Authorization Required")
		return
	}
	if token != s.opts.token {
		s.refuse(w, -1, http.StatusUnauthorized, "invalid token", unauthorized(
			"This server could not verify that you are authorized to access the document you requested."))
		return
	}
	if pixel != s.opts.pixelID {
		// Reddit's exact answer for an unknown pixel is unconfirmed.
		s.refuse(w, -1, http.StatusNotFound, "unknown pixel "+pixel, notFound("pixel "+pixel+" not found"))
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.refuse(w, -1, http.StatusBadRequest, "content type "+ct, message("Content-Type must be application/json"))
		return
	}
	if len(raw) > maxBody {
		s.refuse(w, -1, http.StatusRequestEntityTooLarge, "body too large", message("request body too large"))
		return
	}
	s.conversionEvents(w, raw)
}

// conversionEvents validates the body and either accepts every event or,
// as Reddit does, none.
func (s *Server) conversionEvents(w http.ResponseWriter, raw []byte) {
	var b wireBody
	if err := strictDecode(raw, &b); err != nil {
		s.decodeFailure(w, "", "", err)
		return
	}
	switch {
	case b.Data == nil:
		s.refuse(w, -1, http.StatusBadRequest, "data: required", message("data: required"))
		return
	case len(b.Data.Events) == 0:
		s.refuse(w, -1, http.StatusBadRequest, "data.events: empty", message("data.events: at least one event is required"))
		return
	case len(b.Data.Events) > MaxBatch:
		s.refuse(w, -1, http.StatusBadRequest, "too many events",
			message("There were "+itoa(len(b.Data.Events))+" conversion events. At most "+itoa(MaxBatch)+" are allowed per request."))
		return
	case b.Data.TestID != nil && strings.TrimSpace(*b.Data.TestID) == "":
		s.refuse(w, -1, http.StatusBadRequest, "data.test_id: empty", message("data.test_id: empty"))
		return
	}

	now := s.opts.now()
	events := make([]wireEvent, len(b.Data.Events))
	var invalid []invalidEvent
	for i, rawEv := range b.Data.Events {
		if err := strictDecode(rawEv, &events[i]); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				// A wrong JSON type fails the whole request with 403.
				s.decodeFailure(w, fmt.Sprintf("events[%d]: ", i), "events ", err)
				return
			}
			invalid = append(invalid, s.invalid(i, rawEv, []string{err.Error()}))
			continue
		}
		if ps := checkEvent(events[i], now); len(ps) > 0 {
			invalid = append(invalid, s.invalid(i, rawEv, ps))
		}
	}
	if len(invalid) > 0 {
		fakeads.WriteJSON(w, http.StatusBadRequest, invalidAnswer{
			Message:       "There were " + itoa(len(invalid)) + " invalid conversion events. None were processed.",
			InvalidEvents: invalid,
		})
		return
	}

	s.mu.Lock()
	for _, ev := range events {
		id := *ev.Metadata.ConversionID
		if b.Data.TestID != nil {
			s.testEvents = append(s.testEvents, TestEvent{TestID: *b.Data.TestID, ConversionID: id})
			continue
		}
		s.Ledger.Accept(id)
	}
	s.mu.Unlock()
	fakeads.WriteJSON(w, http.StatusOK, successAnswer(len(events)))
}

// decodeFailure answers a body that is not the expected JSON: a value of the
// wrong type gets Reddit's 403 "JSON error", anything else 400.
func (s *Server) decodeFailure(w http.ResponseWriter, where, fieldPrefix string, err error) {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := fieldPrefix + strings.ReplaceAll(te.Field, ".", " ")
		s.refuse(w, -1, http.StatusForbidden, where+err.Error(),
			unauthorized("JSON error unexpected type "+te.Value+" on field "+field))
		return
	}
	s.refuse(w, -1, http.StatusBadRequest, where+err.Error(), message("invalid JSON: "+err.Error()))
}

func (s *Server) invalid(i int, raw json.RawMessage, ps []string) invalidEvent {
	msg := strings.Join(ps, "; ")
	s.reject(i, http.StatusBadRequest, msg)
	return invalidEvent{ErrorMessage: msg, Event: raw}
}

// refuse records a rejection and answers it.
func (s *Server) refuse(w http.ResponseWriter, event, status int, why string, body any) {
	s.reject(event, status, why)
	fakeads.WriteJSON(w, status, body)
}

func (s *Server) reject(event, status int, why string) {
	s.mu.Lock()
	s.rejections = append(s.rejections, Rejection{Status: status, Event: event, Reason: why})
	s.mu.Unlock()
}

// route extracts the pixel id from /api/v3/pixels/{pixel_id}/conversion_events.
func route(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/api/v3/pixels/")
	if !ok {
		return "", false
	}
	pixel, ok := strings.CutSuffix(rest, "/conversion_events")
	if !ok || pixel == "" || strings.Contains(pixel, "/") {
		return "", false
	}
	return pixel, true
}

// strictDecode decodes exactly one JSON value with no unknown fields.
func strictDecode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
