package tiktok

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// MaxBatch is TikTok's largest "data" array (docs/contracts/ad-platforms.md §4.3).
const MaxBatch = 1000

var _ conversions.Destination = (*Client)(nil)

// Client is one TikTok pixel as a conversions.Destination.
type Client struct {
	cfg      Config
	build    builder
	http     *http.Client
	now      func() time.Time
	endpoint string
}

// New validates cfg (filling its defaults) and returns its client.
func New(cfg Config, opts conversions.ClientOptions) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("tiktok config: %w", err)
	}
	return &Client{
		cfg:      cfg,
		build:    newBuilder(&cfg),
		http:     opts.HTTPClient(),
		now:      opts.Clock(),
		endpoint: cfg.endpoint(),
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
	now := c.now()
	return conversions.SendAsOne(batch, MaxBatch, func(conv *conversions.Conversion) (event, error) {
		return c.build.event(*conv, now)
	}, func(events []event) conversions.Outcome { return c.post(ctx, events) })
}

// post sends one request and classifies its answer.
func (c *Client) post(ctx context.Context, events []event) conversions.Outcome {
	body, err := c.build.body(events)
	if err != nil {
		// Deterministic: the same events would fail again.
		return conversions.Outcome{Class: conversions.Rejected, Reason: err.Error(), WholeBatch: len(events) > 1}
	}
	ans, err := conversions.Send(ctx, c.http, conversions.Post{
		Platform: "tiktok", URL: c.endpoint, Body: body, Timeout: c.cfg.Timeout,
		Header: http.Header{
			"Access-Token": {c.cfg.AccessToken},
			"Content-Type": {"application/json"}, "Accept": {"application/json"},
		},
	})
	if err != nil {
		return conversions.FailedPost("tiktok", err)
	}
	if ans.ReadErr != nil {
		// The answer was cut: whether TikTok took the events is unknown,
		// and re-sending is safe thanks to event_id dedup.
		o := conversions.TransportFailure(ans.ReadErr)
		o.Status = ans.Status
		return o
	}
	return classify(ans.Status, ans.Header, ans.Body, c.now(), len(events))
}
