package posthog

import (
	"context"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/internal/backoff"
	"github.com/hogsend/hogsend-proxy/internal/hostclient"
)

// Client sends gzip /batch/ requests to a PostHog ingestion host.
type Client struct {
	hc      *fasthttp.HostClient
	uri     string
	timeout time.Duration
}

// ClientOptions configure a Client.
type ClientOptions struct {
	URL     string // the ingestion host, e.g. https://eu.i.posthog.com
	Timeout time.Duration
	// MaxConns bounds the connections to PostHog (default 64).
	MaxConns int
}

// NewClient returns the client of o.URL.
func NewClient(o ClientOptions) (*Client, error) {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 64
	}
	hc, base, err := hostclient.New(o.URL, hostclient.Options{Name: "hogsend-proxy-mirror",
		MaxConns: o.MaxConns, MaxResponseBytes: 1 << 20, Timeout: o.Timeout})
	if err != nil {
		return nil, fmt.Errorf("posthog: %w", err)
	}
	return &Client{hc: hc, uri: base.URL("/batch/"), timeout: o.Timeout}, nil
}

// Answer is PostHog's answer to one batch.
type Answer struct {
	Status     int
	Body       []byte
	RetryAfter time.Duration
}

// Send posts one gzip batch body; an error means no answer.
func (c *Client) Send(ctx context.Context, gz []byte) (Answer, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI(c.uri)
	req.Header.SetContentType("application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.SetBodyRaw(gz)
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.hc.DoDeadline(req, resp, deadline); err != nil {
		hostclient.DropDeadConns(c.hc, err)
		return Answer{}, fmt.Errorf("POST /batch/: %w", err)
	}
	return Answer{Status: resp.StatusCode(), Body: append([]byte(nil), resp.Body()...),
		RetryAfter: backoff.RetryAfter(string(resp.Header.Peek("Retry-After")), time.Now())}, nil
}
