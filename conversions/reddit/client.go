package reddit

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// userAgent follows the Reddit API convention of naming the app (PH does
// the same, docs/contracts/ad-platforms.md §6.1).
const userAgent = "hogsend-proxy:conversions:v3"

// Client sends conversions to one Reddit pixel.
type Client struct {
	cfg      Config
	endpoint string
	http     *http.Client
	now      func() time.Time
}

var _ conversions.Destination = (*Client)(nil)

// New validates cfg (filling its defaults) and returns a client.
func New(cfg Config, opts conversions.ClientOptions) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("reddit config: %w", err)
	}
	return &Client{
		cfg:      cfg,
		endpoint: cfg.BaseURL + "/api/" + cfg.APIVersion + "/pixels/" + cfg.PixelID + "/conversion_events",
		http:     opts.HTTPClient(),
		now:      opts.Clock(),
	}, nil
}

// Name is the destination's config key.
func (c *Client) Name() string { return "reddit" }

// MaxBatch is Reddit's largest accepted batch.
func (c *Client) MaxBatch() int { return MaxBatchSize }

// Send validates every conversion, refuses the invalid ones without sending
// them, and sends the rest in one request. Conversions beyond MaxBatch are
// not sent and come back as Retry, to go out with a later batch.
func (c *Client) Send(ctx context.Context, batch []conversions.Conversion) []conversions.Outcome {
	out := make([]conversions.Outcome, len(batch))
	now := c.now()
	events, pos := conversions.BuildBatch(batch, out, MaxBatchSize, "reddit: ", func(conv *conversions.Conversion) (event, error) {
		return c.buildEvent(*conv, now)
	})
	if len(events) == 0 {
		return out
	}
	for j, o := range c.post(ctx, events) {
		out[pos[j]] = o
	}
	return out
}

// post sends one request and classifies the answer per event.
func (c *Client) post(ctx context.Context, events []event) []conversions.Outcome {
	n := len(events)
	testID := ""
	if c.cfg.TestMode {
		testID = c.cfg.TestID
	}
	payload, err := encodeBody(testID, events)
	if err != nil {
		// Not reachable with validated events; refuse rather than loop.
		return conversions.Outcomes(n, conversions.Outcome{Class: conversions.Rejected, Reason: err.Error(), WholeBatch: n > 1})
	}
	ans, err := conversions.Send(ctx, c.http, conversions.Post{
		Platform: "reddit", URL: c.endpoint, Body: payload, Timeout: c.cfg.Timeout,
		Header: http.Header{
			"Authorization": {"Bearer " + c.cfg.AccessToken},
			"Content-Type":  {"application/json"}, "Accept": {"application/json"},
			"User-Agent": {userAgent},
		},
	})
	if err != nil {
		return conversions.Outcomes(n, conversions.FailedPost("reddit", err))
	}
	// A body cut short still has its status, and the status decides the
	// class; the body only adds the reason.
	return classify(ans.Status, ans.Header, ans.Body, c.now(), events)
}
