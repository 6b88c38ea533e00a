package abuse

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"
)

// request is one raw HTTP/1.1 request, written byte for byte as given: the
// attacks need methods, headers and lengths no well-behaved client sends.
type request struct {
	method, path string
	headers      []string // "Name: value"
	body         []byte
	// declared is the Content-Length sent; 0 means len(body), -1 none.
	declared int
}

// head is the request line and headers, through the blank line.
func (q request) head() []byte {
	b := make([]byte, 0, 256)
	b = append(b, q.method+" "+q.path+" HTTP/1.1\r\nHost: hogsend\r\n"...)
	for _, h := range q.headers {
		b = append(b, h+"\r\n"...)
	}
	switch {
	case q.declared > 0:
		b = append(b, "Content-Length: "+strconv.Itoa(q.declared)+"\r\n"...)
	case q.declared == 0 && (len(q.body) > 0 || q.method == "POST" || q.method == "PUT"):
		b = append(b, "Content-Length: "+strconv.Itoa(len(q.body))+"\r\n"...)
	}
	return append(b, "\r\n"...)
}

// exchange sends q on a fresh connection from src and reads the answer,
// giving up (Stuck) after bound.
func (t Target) exchange(ctx context.Context, src net.IP, q request, bound time.Duration) Answer {
	c, err := t.dial(ctx, src)
	if err != nil {
		return Answer{Err: err, Closed: isClosed(err)}
	}
	defer c.Close()
	return t.onConn(ctx, c, q, bound)
}

// onConn sends q on c and reads the answer, giving up (Stuck) after bound.
func (t Target) onConn(ctx context.Context, c net.Conn, q request, bound time.Duration) Answer {
	return t.send(ctx, c, append(q.head(), q.body...), q.method, bound)
}

// send writes raw on c and reads the answer to a request of method.
func (t Target) send(ctx context.Context, c net.Conn, raw []byte, method string, bound time.Duration) Answer {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	c.SetDeadline(time.Now().Add(bound))
	// Read while writing: the proxy may refuse a large request early and
	// close, and its answer must be read before the reset that follows.
	got := make(chan Answer, 1)
	go func() { got <- readAnswer(ctx, bufio.NewReader(c), method) }()
	c.Write(raw)
	return <-got
}

// drip sends q's head, then its body one byte every interval until the
// proxy answers or closes, or bound passes (Stuck).
func (t Target) drip(ctx context.Context, src net.IP, head []byte, every, bound time.Duration) Answer {
	c, err := t.dial(ctx, src)
	if err != nil {
		return Answer{Err: err, Closed: isClosed(err)}
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	c.SetDeadline(time.Now().Add(bound))
	got := make(chan Answer, 1)
	go func() { got <- readAnswer(ctx, bufio.NewReader(c), "POST") }()
	if _, err := c.Write(head); err != nil {
		return <-got
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case a := <-got:
			return a
		case <-tick.C:
			if _, err := c.Write([]byte{'1'}); err != nil {
				return <-got
			}
		}
	}
}

// readAnswer reads one HTTP answer; a close before it is Closed, the
// connection deadline passing is Stuck.
func readAnswer(ctx context.Context, br *bufio.Reader, method string) Answer {
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return failedAnswer(ctx, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return Answer{
		Status: resp.StatusCode, Body: body, HeadRequest: method == "HEAD",
		Header: map[string]string{
			"Retry-After":  resp.Header.Get("Retry-After"),
			"Content-Type": resp.Header.Get("Content-Type"),
		},
	}
}

func failedAnswer(ctx context.Context, err error) Answer {
	switch {
	case ctx.Err() != nil:
		return Answer{Err: ctx.Err()}
	case errors.Is(err, os.ErrDeadlineExceeded):
		return Answer{Stuck: true, Err: err}
	}
	return Answer{Closed: isClosed(err), Err: err}
}

// isClosed reports errors that mean the proxy closed or refused the
// connection.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
