// Package meta sends conversions to the Meta Conversions API (spec §3):
// POST {base}/{version}/{pixel_id}/events with hashed user_data, event_id
// for deduplication against the pixel, and the token in the JSON body.
package meta

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// MaxBatch is Meta's limit of events per request (spec §3.5).
const MaxBatch = 1000

// maxAnswer bounds how much of an answer is read: Graph answers are small,
// a proxy's error page need not be read whole.
const maxAnswer = 1 << 20

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
	out := make([]conversions.Outcome, len(batch))
	now := c.now()
	events, sent := conversions.BuildBatch(batch, out, MaxBatch, "", func(conv *conversions.Conversion) (event, error) {
		return c.build.event(*conv, now)
	})
	if len(events) == 0 {
		return out
	}

	o := c.post(ctx, events)
	for _, i := range sent {
		out[i] = o
	}
	return out
}

// post sends one request and classifies its answer for all its events.
func (c *Client) post(ctx context.Context, events []event) conversions.Outcome {
	body, err := encode(events, c.cfg.TestEventCode, c.cfg.AccessToken)
	if err != nil {
		// Validated events always encode; this guards a future field.
		return conversions.Outcome{Class: conversions.Rejected, Reason: err.Error(), WholeBatch: len(events) > 1}
	}
	if c.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return conversions.Outcome{Class: conversions.Halt, Reason: "build meta request: " + conversions.ErrorText(err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	resp, err := c.http.Do(req)
	if err != nil {
		return conversions.TransportFailure(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		o := conversions.TransportFailure(fmt.Errorf("read meta answer: %w", err))
		o.Status = resp.StatusCode
		return o
	}
	return classify(resp.StatusCode, resp.Header, answer, len(events), c.now())
}
