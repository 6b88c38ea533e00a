package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/internal/backoff"
	"github.com/hogsend/hogsend-proxy/internal/hostclient"
)

// Client sends hand-off requests to the engine with the hand-off's own
// secret key (HOGSEND_UPSTREAM_API_KEY).
type Client struct {
	hc      *fasthttp.HostClient
	base    hostclient.Base
	auth    string
	timeout time.Duration
}

// ClientOptions configure a Client.
type ClientOptions struct {
	URL     string // the engine's base URL
	APIKey  string // an engine key with ingest
	Timeout time.Duration
	// MaxConns bounds the connections to the engine (default 256).
	MaxConns int
}

// maxAnswerBytes bounds an engine answer: the hand-off's routes answer a
// few hundred bytes.
const maxAnswerBytes = 1 << 20

// NewClient returns the client of o.URL.
func NewClient(o ClientOptions) (*Client, error) {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 256
	}
	hc, base, err := hostclient.New(o.URL, hostclient.Options{Name: "hogsend-proxy-handoff",
		MaxConns: o.MaxConns, MaxResponseBytes: maxAnswerBytes, Timeout: o.Timeout})
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	if o.APIKey == "" {
		return nil, fmt.Errorf("engine %q: the hand-off needs an API key with ingest", o.URL)
	}
	return &Client{hc: hc, base: base, auth: "Bearer " + o.APIKey, timeout: o.Timeout}, nil
}

// Answer is the engine's answer to one request.
type Answer struct {
	Status      int
	ContentType string
	Body        []byte
	// RetryAfter is the engine's Retry-After, 0 when it sent none.
	RetryAfter time.Duration
}

// Send makes one exchange; an error means no answer (the request may or
// may not have reached the engine).
func (c *Client) Send(ctx context.Context, r *Request) (Answer, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(r.Method)
	req.SetRequestURI(c.base.URL(r.Path))
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	req.Header.SetContentType("application/json")
	if r.IdempotencyKey != "" {
		req.Header.Set("Idempotency-Key", r.IdempotencyKey)
	}
	req.SetBodyRaw(r.Body)
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.hc.DoDeadline(req, resp, deadline); err != nil {
		hostclient.DropDeadConns(c.hc, err)
		return Answer{}, fmt.Errorf("%s %s: %w", r.Method, r.Path, err)
	}
	return Answer{
		Status: resp.StatusCode(), ContentType: string(resp.Header.ContentType()),
		Body: append([]byte(nil), resp.Body()...), RetryAfter: backoff.RetryAfter(string(resp.Header.Peek("Retry-After")), time.Now()),
	}, nil
}
