package main

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// leanServer is the listening half of the bench's stand-ins for a Hogsend
// engine and a PostHog project: fasthttp, answering each request after a
// fixed latency, stoppable (connections refused, open ones cut) and
// restartable on the same port, as an outage wants. The strict fakes of
// internal/fakeengine and internal/fakeposthog are the tests'; on this
// bench's shared cores their net/http and full models cost the proxy's
// ingest more CPU than delivery itself (docs/operations.md § Delivery benchmarks).
type leanServer struct {
	handler fasthttp.RequestHandler
	latency time.Duration
	addr    string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

// startLean serves h on a free loopback port, each answer latency late.
func startLean(h fasthttp.RequestHandler, latency time.Duration) (*leanServer, error) {
	s := &leanServer{handler: h, latency: latency}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lean server: listen: %w", err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	return s, nil
}

func (s *leanServer) serve(ln net.Listener) {
	s.mu.Lock()
	s.ln, s.conns = ln, map[net.Conn]struct{}{}
	s.mu.Unlock()
	srv := &fasthttp.Server{Handler: s.answerLate, Name: "bench-fake", MaxRequestBodySize: 64 << 20,
		ConnState: s.track, NoDefaultDate: true, ReadBufferSize: 16 << 10,
		Logger: quietLogger{}}
	go func() { _ = srv.Serve(ln) }()
}

func (s *leanServer) answerLate(ctx *fasthttp.RequestCtx) {
	if s.latency > 0 {
		time.Sleep(s.latency)
	}
	s.handler(ctx)
}

// track keeps the open connections, for Stop to cut them.
func (s *leanServer) track(c net.Conn, st fasthttp.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		return
	}
	switch st {
	case fasthttp.StateNew:
		s.conns[c] = struct{}{}
	case fasthttp.StateClosed, fasthttp.StateHijacked:
		delete(s.conns, c)
	}
}

// URL is the server's base URL.
func (s *leanServer) URL() string { return "http://" + s.addr }

// Stop closes the listener and every open connection: an outage.
func (s *leanServer) Stop() {
	s.mu.Lock()
	ln, conns := s.ln, s.conns
	s.ln, s.conns = nil, nil
	s.mu.Unlock()
	if ln == nil {
		return
	}
	_ = ln.Close()
	for c := range conns {
		_ = c.Close()
	}
}

// Restart listens again on the same port after Stop.
func (s *leanServer) Restart() error {
	s.mu.Lock()
	running := s.ln != nil
	s.mu.Unlock()
	if running {
		return errors.New("lean server: restart: still running")
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("lean server: listen again on %s: %w", s.addr, err)
	}
	s.serve(ln)
	return nil
}

// Close stops the server for good.
func (s *leanServer) Close() { s.Stop() }

// quietLogger drops fasthttp's per-connection errors: an outage cuts
// connections on purpose.
type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}
