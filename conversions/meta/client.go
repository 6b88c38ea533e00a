// Package meta sends conversions to the Meta Conversions API (docs/contracts/ad-platforms.md §2):
// POST {base}/{version}/{pixel_id}/events with hashed user_data, event_id
// for deduplication against the pixel, and the token in the JSON body.
package meta

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// MaxBatch is Meta's limit of events per request (docs/contracts/ad-platforms.md §2.5).
const MaxBatch = 1000

// Client is one Meta pixel as a conversions.Destination.
type Client struct {
	cfg      Config
	endpoint string
	build    builder
	http     *http.Client
	now      func() time.Time
}

var _ conversions.Destination = (*Client)(nil)

// New validates cfg (filling its defaults) and returns its client.
func New(cfg Config, opts conversions.ClientOptions) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("meta config: %w", err)
	}
	return &Client{
		cfg:      cfg,
		endpoint: cfg.endpoint(),
		build:    builder{actionSource: cfg.ActionSource, phoneCountry: cfg.DefaultPhoneCountry},
		http:     opts.HTTPClient(),
		now:      opts.Clock(),
	}, nil
}

// Name is the destination's config key.
func (c *Client) Name() string { return "meta" }

// MaxBatch is Meta's largest batch.
func (c *Client) MaxBatch() int { return MaxBatch }

// Send posts the sendable conversions of batch in one request and returns
// one outcome per conversion, in order. A conversion Meta would refuse is
// Rejected here without being sent, so that it cannot fail the others:
// Meta rejects a whole request for one bad event.
func (c *Client) Send(ctx context.Context, batch []conversions.Conversion) []conversions.Outcome {
	now := c.now()
	return conversions.SendAsOne(batch, MaxBatch, func(conv *conversions.Conversion) (event, error) {
		return c.build.event(*conv, now)
	}, func(events []event) conversions.Outcome { return c.post(ctx, events) })
}

// post sends one request and classifies its answer for all its events.
func (c *Client) post(ctx context.Context, events []event) conversions.Outcome {
	body, err := encode(events, c.cfg.TestEventCode, c.cfg.AccessToken)
	if err != nil {
		// Validated events always encode; this guards a future field.
		return conversions.Outcome{Class: conversions.Rejected, Reason: err.Error(), WholeBatch: len(events) > 1}
	}
	ans, err := conversions.Send(ctx, c.http, conversions.Post{
		Platform: "meta", URL: c.endpoint, Body: body, Timeout: c.cfg.Timeout,
		Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}},
	})
	if err != nil {
		return conversions.FailedPost("meta", err)
	}
	if ans.ReadErr != nil {
		o := conversions.TransportFailure(ans.ReadErr)
		o.Status = ans.Status
		return o
	}
	return classify(ans.Status, ans.Header, ans.Body, c.now(), len(events))
}
