package tiktok

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// MaxBatch is TikTok's largest "data" array (spec §6.3).
const MaxBatch = 1000

// maxResponse bounds how much of an answer is read: TikTok's envelope is
// small, and a misbehaving proxy must not exhaust memory.
const maxResponse = 1 << 20

var _ conversions.Destination = (*Client)(nil)

// Client is one TikTok pixel as a conversions.Destination.
type Client struct {
	cfg      Config
	build    builder
	http     *http.Client
	now      func() time.Time
	endpoint string
	timeout  time.Duration
}

// New validates cfg (filling its defaults) and returns its client.
func New(cfg Config, opts conversions.ClientOptions) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("tiktok config: %w", err)
	}
	_, timeout := cfg.durations()
	return &Client{
		cfg:      cfg,
		build:    newBuilder(&cfg),
		http:     opts.HTTPClient(),
		now:      opts.Clock(),
		endpoint: cfg.endpoint(),
		timeout:  timeout,
	}, nil
}

// Name is the destination's config key.
func (c *Client) Name() string { return "tiktok" }

// MaxBatch is TikTok's batch limit.
func (c *Client) MaxBatch() int { return MaxBatch }

// Send delivers the valid conversions of batch in one request. Conversions
// refused by validation are Rejected and left out of the request; the
// others share the request's outcome, since TikTok answers per request.
func (c *Client) Send(ctx context.Context, batch []conversions.Conversion) []conversions.Outcome {
	out := make([]conversions.Outcome, len(batch))
	now := c.now()
	events, sent := conversions.BuildBatch(batch, out, MaxBatch, "", func(conv *conversions.Conversion) (event, error) {
		return c.build.event(*conv, now)
	})
	if len(events) == 0 {
		return out
	}
	res := c.post(ctx, events)
	for _, i := range sent {
		out[i] = res
	}
	return out
}

// post sends one request and classifies its answer.
func (c *Client) post(ctx context.Context, events []event) conversions.Outcome {
	body, err := c.build.body(events)
	if err != nil {
		// Deterministic: the same events would fail again.
		return conversions.Outcome{Class: conversions.Rejected, Reason: err.Error(), WholeBatch: len(events) > 1}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return conversions.Outcome{Class: conversions.Halt, Reason: "build tiktok request: " + conversions.ErrorText(err)}
	}
	req.Header.Set("Access-Token", c.cfg.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return conversions.TransportFailure(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		// The answer was cut: whether TikTok took the events is unknown,
		// and re-sending is safe thanks to event_id dedup.
		o := conversions.TransportFailure(fmt.Errorf("read tiktok response: %w", err))
		o.Status = resp.StatusCode
		return o
	}
	return classify(resp.StatusCode, resp.Header, raw, c.now(), len(events))
}
