package linkedin

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// Client sends conversions to one LinkedIn conversion rule.
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
		return nil, err
	}
	return &Client{
		cfg:      cfg,
		endpoint: cfg.BaseURL + "/rest/conversionEvents",
		http:     opts.HTTPClient(),
		now:      opts.Clock(),
	}, nil
}

// Name is the destination's config key.
func (c *Client) Name() string { return "linkedin" }

// MaxBatch is the configured batch limit, at most LinkedIn's 5,000.
func (c *Client) MaxBatch() int { return c.cfg.MaxBatch }

// Send delivers batch in one request: a single create for one conversion,
// a BATCH_CREATE for more. Conversions that fail validation are Rejected
// and left out of the request; the rest are sent.
func (c *Client) Send(ctx context.Context, batch []conversions.Conversion) []conversions.Outcome {
	out := make([]conversions.Outcome, len(batch))
	if len(batch) > c.cfg.MaxBatch {
		// Never send what LinkedIn refuses for its size: ask the
		// dispatcher to split instead.
		return conversions.Outcomes(len(batch), conversions.Outcome{
			Class:      conversions.Rejected,
			Reason:     fmt.Sprintf("batch of %d exceeds linkedin max_batch %d", len(batch), c.cfg.MaxBatch),
			WholeBatch: true,
		})
	}
	now := c.now()
	events, sent := conversions.BuildBatch(batch, out, 0, "linkedin: ", func(conv *conversions.Conversion) (event, error) {
		return buildEvent(conv, &c.cfg, now)
	})
	if len(events) == 0 {
		return out
	}
	for k, o := range c.post(ctx, events) {
		out[sent[k]] = o
	}
	return out
}

// post sends events in one request and classifies the answer per element.
func (c *Client) post(ctx context.Context, events []event) []conversions.Outcome {
	n := len(events)
	var body []byte
	var err error
	if n == 1 {
		body, err = encodeSingle(events[0])
	} else {
		body, err = encodeBatch(events)
	}
	if err != nil {
		return conversions.Outcomes(n, conversions.Outcome{Class: conversions.Rejected, Reason: "linkedin: " + err.Error()})
	}
	header := http.Header{
		"Authorization":             {"Bearer " + c.cfg.AccessToken},
		"Linkedin-Version":          {c.cfg.Version},
		"X-Restli-Protocol-Version": {"2.0.0"},
		"Content-Type":              {"application/json"},
	}
	if n > 1 {
		header.Set("X-RestLi-Method", "BATCH_CREATE")
	}
	ans, err := conversions.Send(ctx, c.http, conversions.Post{
		Platform: "linkedin", URL: c.endpoint, Body: body, Header: header, Timeout: c.cfg.Timeout,
	})
	if err != nil {
		return conversions.Outcomes(n, conversions.FailedPost("linkedin", err))
	}
	if ans.ReadErr != nil && ans.Status/100 != 2 {
		// An error answer cut short still has its status to classify by.
		ans.Body = nil
	}
	return classify(ans.Status, ans.Header, ans.Body, c.now(), n)
}
