package ga4

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// MaxBatch is GA4's largest "events" array (docs/contracts/ad-platforms.md §7).
const MaxBatch = 25

var _ conversions.Destination = (*Client)(nil)

// Client is one GA4 web data stream as a conversions.Destination.
type Client struct {
	build    builder
	http     *http.Client
	now      func() time.Time
	endpoint string
	debug    bool
	timeout  conversions.Timeout
}

// New validates cfg (filling its defaults) and returns its client.
func New(cfg Config, opts conversions.ClientOptions) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ga4 config: %w", err)
	}
	return &Client{
		build:    builder{phoneCountry: cfg.DefaultPhoneCountry},
		http:     opts.HTTPClient(),
		now:      opts.Clock(),
		endpoint: cfg.endpoint(),
		debug:    cfg.Debug,
		timeout:  cfg.Timeout,
	}, nil
}

// Name is the destination's config key.
func (c *Client) Name() string { return "ga4" }

// MaxBatch is GA4's events-per-request limit.
func (c *Client) MaxBatch() int { return MaxBatch }

// Send validates batch, rejecting invalid conversions without sending them,
// and delivers the rest.
//
// Exception to "one request per Send": client_id, user_id, consent and
// user_data are request-level in GA4, so Send issues one request per group
// of conversions that share them (usually one per contact). Each
// conversion gets its own request's outcome. Requests go out in order; a
// cancelled context makes the remaining ones transport failures (Retry).
func (c *Client) Send(ctx context.Context, batch []conversions.Conversion) []conversions.Outcome {
	out := make([]conversions.Outcome, len(batch))
	now := c.now()
	items, pos := conversions.BuildBatch(batch, out, 0, "ga4: ", func(conv *conversions.Conversion) (item, error) {
		return c.build.item(*conv, now)
	})
	reqs, idx := group(items, MaxBatch)
	for r, req := range reqs {
		res := c.post(ctx, req)
		for _, k := range idx[r] {
			out[pos[k]] = res
		}
	}
	return out
}

// post sends one request and classifies its answer.
func (c *Client) post(ctx context.Context, r request) conversions.Outcome {
	body, err := encode(r)
	if err != nil {
		// Deterministic: the same events would fail again.
		return conversions.Outcome{Class: conversions.Rejected, Reason: "ga4: encode body: " + err.Error(), WholeBatch: len(r.Events) > 1}
	}
	ans, err := conversions.Send(ctx, c.http, conversions.Post{
		Platform: "ga4", URL: c.endpoint, Body: body, Timeout: c.timeout,
		Header: http.Header{"Content-Type": {"application/json"}},
	})
	if err != nil {
		return conversions.FailedPost("ga4", err)
	}
	if ans.ReadErr != nil && ans.Status/100 != 2 {
		return conversions.TransportFailure(ans.ReadErr)
	}
	return classify(ans.Status, ans.Header, ans.Body, c.now(), c.debug, len(r.Events))
}
