package proxy

import (
	"errors"
	"io"
	"math/bits"
	"net"
	"strconv"
	"sync"

	"github.com/valyala/fasthttp"
)

// Request bodies are streamed from the connection and read here, into
// buffers charged to the request's lease before any byte is read into them
// (docs/operations.md § Limits). A declared Content-Length costs one small
// buffer until its first bytes fill it; then the whole declared length is
// charged at once, so that no request waits for room while holding part of
// what it needs. A chunked body grows by doubling.

const (
	minBodyClass    = 12 // 4 KiB, the first buffer of every body
	maxPooledClass  = 20 // 1 MiB; larger bodies get buffers of their exact size
	firstBodyBuffer = 1 << minBodyClass
)

// bodyPool keeps body buffers of up to 1 MiB by power-of-two capacity.
// A sync.Pool holds pointers; the empty *[]byte a get leaves behind waits
// in holders for the next put, so that neither allocates.
type bodyPool struct {
	classes [maxPooledClass + 1]sync.Pool
	holders sync.Pool
}

// classOf is the smallest pooled class holding n bytes.
func classOf(n int) int {
	if n <= 1<<minBodyClass {
		return minBodyClass
	}
	return bits.Len(uint(n - 1))
}

// get returns an empty buffer with room for n bytes: pooled up to 1 MiB,
// made to measure above.
func (p *bodyPool) get(n int) []byte {
	class := classOf(n)
	if class > maxPooledClass {
		return make([]byte, 0, n)
	}
	if h, ok := p.classes[class].Get().(*[]byte); ok {
		b := (*h)[:0]
		*h = nil
		p.holders.Put(h)
		return b
	}
	return make([]byte, 0, 1<<class)
}

// put keeps a buffer get could have pooled; others are left to the GC.
func (p *bodyPool) put(b []byte) {
	class := bits.Len(uint(cap(b))) - 1
	if class < minBodyClass || class > maxPooledClass || cap(b) != 1<<class {
		return
	}
	h, ok := p.holders.Get().(*[]byte)
	if !ok {
		h = new([]byte)
	}
	*h = b[:0]
	p.classes[class].Put(h)
}

// oversizedHeader marks a request whose declared body is over the limit.
// fasthttp would wait for the first bytes of any declared body before the
// handler runs; headerReceived drops the length instead, so the request is
// refused at once, and removes the marker from what clients send.
const oversizedHeader = "X-Hogsend-Oversized-Body"

// headerReceived runs once a request's line and headers are in: it gives the
// body its own read timeout and marks a declared length over the limit.
func (s *Server) headerReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	h.Del(oversizedHeader)
	if declared := h.ContentLength(); declared > s.maxBody {
		h.Set(oversizedHeader, strconv.Itoa(declared))
		h.SetContentLength(0)
	}
	return fasthttp.RequestConfig{ReadTimeout: s.bodyTimeout}
}

// declaredBodyBytes is the body length the client declared, also when it
// was over the limit and headerReceived dropped it; 0 when unknown.
func declaredBodyBytes(ctx *fasthttp.RequestCtx) int {
	if v := ctx.Request.Header.Peek(oversizedHeader); len(v) > 0 {
		n, _ := strconv.Atoi(string(v))
		return n
	}
	return max(0, ctx.Request.Header.ContentLength())
}

// bodyRefusal is why a body was not read, answered in the route's shape.
type bodyRefusal struct {
	status     int
	code       string // capture's "code" and the refusal metric's reason
	msg        string
	retryAfter int // seconds, for a 429; 0 means 1
}

// requestBody reads the streamed body of ctx into a buffer from the pool,
// charging lease for every byte of capacity before reading into it. The
// caller hands the buffer back with pool.put once the handler is done.
func (s *Server) requestBody(ctx *fasthttp.RequestCtx, l *lease) ([]byte, *bodyRefusal) {
	if len(ctx.Request.Header.Peek(oversizedHeader)) > 0 {
		return nil, tooLarge()
	}
	stream := ctx.RequestBodyStream()
	declared := ctx.Request.Header.ContentLength()
	if stream == nil || declared == 0 || declared == -2 {
		return nil, nil
	}
	limit, known := declared, true
	if declared < 0 {
		limit, known = s.maxBody+1, false // chunked: read until the limit proves it too large
	}
	buf, ref := s.readInto(stream, limit, known, l)
	if ref != nil {
		s.bodies.put(buf)
		return nil, ref
	}
	if len(buf) > s.maxBody {
		s.bodies.put(buf)
		return nil, tooLarge()
	}
	return buf, nil
}

// readInto reads stream to its end, or to limit bytes, growing the buffer
// (nextCap) and reserving each growth from the lease before reading into it.
func (s *Server) readInto(stream io.Reader, limit int, known bool, l *lease) ([]byte, *bodyRefusal) {
	var buf []byte
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			grown, err := s.grow(buf, nextCap(cap(buf), limit, known), l)
			if err != nil {
				return buf, s.busy()
			}
			buf = grown
		}
		n, err := stream.Read(buf[len(buf):min(cap(buf), limit)])
		buf = buf[:len(buf)+n]
		switch {
		case errors.Is(err, io.EOF):
			return buf, nil
		case err != nil:
			return buf, unreadable(err)
		}
	}
	return buf, nil
}

// nextCap is the room a body gets next: the first buffer, then its whole
// declared length, or double for a chunked body.
func nextCap(cur, limit int, known bool) int {
	switch {
	case cur == 0:
		return min(limit, firstBodyBuffer)
	case known:
		return limit
	}
	return min(2*cur, limit)
}

// grow moves buf into a buffer with room for n bytes, after reserving the
// added capacity.
func (s *Server) grow(buf []byte, n int, l *lease) ([]byte, error) {
	next := s.bodies.get(n)
	if err := l.Reserve(cap(next) - cap(buf)); err != nil {
		s.bodies.put(next)
		return nil, err
	}
	next = append(next, buf...)
	s.bodies.put(buf)
	return next, nil
}

func tooLarge() *bodyRefusal {
	return &bodyRefusal{status: fasthttp.StatusRequestEntityTooLarge, code: "body_too_large", msg: "request body too large"}
}

// heavyBusy refuses a large payload that found every heavy lane taken.
var heavyBusy = &bodyRefusal{status: fasthttp.StatusTooManyRequests, code: "heavy_busy",
	msg: "server busy: too many large payloads in flight; retry later"}

func (s *Server) busy() *bodyRefusal {
	return &bodyRefusal{status: fasthttp.StatusTooManyRequests, code: "server_busy",
		msg: "server busy: too many request bytes in flight; retry later"}
}

// unreadable maps a failed body read: a client too slow for the read timeout
// gets 408, a broken body 400.
func unreadable(err error) *bodyRefusal {
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return &bodyRefusal{status: fasthttp.StatusRequestTimeout, code: "read_timeout", msg: "request timeout"}
	}
	return &bodyRefusal{status: fasthttp.StatusBadRequest, code: "body_unreadable", msg: "request body could not be read"}
}
