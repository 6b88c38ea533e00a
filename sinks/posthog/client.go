package posthog

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/internal/backoff"
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
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("posthog %q: not an http(s) base URL", o.URL)
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 64
	}
	addr := u.Host
	if u.Port() == "" {
		addr += map[bool]string{true: ":443", false: ":80"}[u.Scheme == "https"]
	}
	return &Client{
		uri: u.Scheme + "://" + u.Host + strings.TrimSuffix(u.Path, "/") + "/batch/", timeout: o.Timeout,
		hc: &fasthttp.HostClient{
			Addr: addr, IsTLS: u.Scheme == "https", Name: "hogsend-proxy-mirror",
			MaxConns: o.MaxConns, MaxResponseBodySize: 1 << 20,
			ReadTimeout: o.Timeout, WriteTimeout: o.Timeout, MaxIdleConnDuration: 30 * time.Second,
		},
	}, nil
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
		backoff.DropDeadConns(c.hc, err)
		return Answer{}, fmt.Errorf("POST /batch/: %w", err)
	}
	return Answer{Status: resp.StatusCode(), Body: append([]byte(nil), resp.Body()...),
		RetryAfter: backoff.RetryAfter(string(resp.Header.Peek("Retry-After")), time.Now())}, nil
}
