// Package fakeads holds what every strict fake ad-platform server shares: a
// script of failures to answer on demand, a record of every request, and a
// ledger that deduplicates accepted conversions like the real platform.
// Each platform's fake (a subpackage) validates its own wire contract.
package fakeads

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"
)

// Fault is one scripted answer, given instead of the normal handling.
type Fault struct {
	Status int
	Body   string            // response body (JSON text); "" for none
	Header map[string]string // e.g. {"Retry-After": "1"}
	// Hang holds the request until the client gives up or Delay passes.
	Delay time.Duration
}

// Script is a queue of faults answered before normal handling, plus an
// outage switch that answers every request with one fault until cleared.
type Script struct {
	mu      sync.Mutex
	queue   []Fault
	outage  *Fault
	latency time.Duration
}

// SetLatency makes every request take at least d (a slow platform).
func (s *Script) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// Push queues faults for the next requests, one each.
func (s *Script) Push(f ...Fault) {
	s.mu.Lock()
	s.queue = append(s.queue, f...)
	s.mu.Unlock()
}

// FailNext queues n identical faults.
func (s *Script) FailNext(n int, f Fault) {
	for i := 0; i < n; i++ {
		s.Push(f)
	}
}

// Down answers every request with f until Up.
func (s *Script) Down(f Fault) {
	s.mu.Lock()
	s.outage = &f
	s.mu.Unlock()
}

// Up ends an outage started by Down.
func (s *Script) Up() {
	s.mu.Lock()
	s.outage = nil
	s.mu.Unlock()
}

// Next returns the fault to answer the current request with, if any,
// after the configured latency.
func (s *Script) Next() (Fault, bool) {
	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		time.Sleep(latency)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outage != nil {
		return *s.outage, true
	}
	if len(s.queue) == 0 {
		return Fault{}, false
	}
	f := s.queue[0]
	s.queue = s.queue[1:]
	return f, true
}

// Answer writes f; with a Delay it gives up silently when the client does.
func (f Fault) Answer(w http.ResponseWriter, r *http.Request) {
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	}
	for k, v := range f.Header {
		w.Header().Set(k, v)
	}
	if f.Body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(f.Body))
}

// Request is one request a fake received, with the status it answered.
type Request struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   []byte
	Status int
	At     time.Time
}

// Receive reads r, its body up to limit bytes, as a Request stamped at;
// err is the body's read error.
func Receive(r *http.Request, limit int64, at time.Time) (Request, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit))
	return Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body, At: at}, err
}

// Recorder keeps every request in arrival order.
type Recorder struct {
	mu   sync.Mutex
	reqs []Request
}

// Add records r.
func (rec *Recorder) Add(r Request) {
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, r)
	rec.mu.Unlock()
}

// Scripted answers r with script's next fault, if it has one, and records
// req with that fault's status; false when the script has none.
func (rec *Recorder) Scripted(script *Script, w http.ResponseWriter, r *http.Request, req Request) bool {
	f, ok := script.Next()
	if !ok {
		return false
	}
	req.Status = f.Status
	rec.Add(req)
	f.Answer(w, r)
	return true
}

// Requests returns a copy of the recorded requests.
func (rec *Recorder) Requests() []Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]Request(nil), rec.reqs...)
}

// Count is the number of requests received.
func (rec *Recorder) Count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.reqs)
}

// Ledger counts accepted conversions by the platform's dedup key: the first
// arrival counts, later ones are duplicates, as the real platform does.
type Ledger struct {
	mu    sync.Mutex
	seen  map[string]int
	order []string
	dups  int
}

// Accept records key and reports whether it was new.
func (l *Ledger) Accept(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = make(map[string]int)
	}
	l.seen[key]++
	if l.seen[key] > 1 {
		l.dups++
		return false
	}
	l.order = append(l.order, key)
	return true
}

// Unique is the number of distinct conversions counted.
func (l *Ledger) Unique() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.order)
}

// Duplicates is how many accepted arrivals repeated a counted key.
func (l *Ledger) Duplicates() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dups
}

// Keys returns the counted keys in first-arrival order.
func (l *Ledger) Keys() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.order...)
}

// WriteJSON answers status with v encoded as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// StatusWriter remembers the status answered, for the recorder; 0 when a
// hanging fault gave up without answering.
type StatusWriter struct {
	http.ResponseWriter
	Status int
}

// WriteHeader records the first status written.
func (w *StatusWriter) WriteHeader(status int) {
	if w.Status == 0 {
		w.Status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write records 200 when no status was written first, as net/http does.
func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
