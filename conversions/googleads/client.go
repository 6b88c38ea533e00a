package googleads

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// maxConversions is Google's per-request limit ("Upload fewer than 2001
// events", TOO_MANY_CONVERSIONS_IN_REQUEST).
const maxConversions = 2000

// maxResponseBytes bounds what is read of an answer: 2,000 result rows with
// identifiers stay well below it.
const maxResponseBytes = 16 << 20

// Client uploads click conversions to one Google Ads account.
type Client struct {
	cfg       Config
	http      *http.Client
	now       func() time.Time
	tokens    *tokenSource
	build     builder
	uploadURL string
}

var _ conversions.Destination = (*Client)(nil)

// New validates cfg (filling its defaults) and returns a client.
func New(cfg Config, opts conversions.ClientOptions) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("google_ads config: %w", err)
	}
	hc := opts.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: cfg.Timeout.Duration()}
	}
	now := opts.Clock()
	return &Client{
		cfg:  cfg,
		http: hc,
		now:  now,
		tokens: &tokenSource{
			http: hc, now: now, url: cfg.TokenURL,
			clientID: cfg.ClientID, secret: cfg.ClientSecret, grant: cfg.RefreshToken,
		},
		build:     newBuilder(cfg),
		uploadURL: cfg.BaseURL + "/" + cfg.APIVersion + "/customers/" + cfg.CustomerID + ":uploadClickConversions",
	}, nil
}

// Name is the destination's config key.
func (c *Client) Name() string { return "google_ads" }

// MaxBatch is Google's per-request limit.
func (c *Client) MaxBatch() int { return maxConversions }

// Send uploads the batch in one request. Conversions that fail the checks
// Google would apply are answered without being sent; the rest go in one
// uploadClickConversions call with partialFailure, and each gets its row's
// outcome.
func (c *Client) Send(ctx context.Context, batch []conversions.Conversion) []conversions.Outcome {
	out := make([]conversions.Outcome, len(batch))
	now := c.now()
	var rows []clickConversion
	sentAs := make([]int, len(batch)) // batch index → row index, -1 when not sent
	byOrder := make(map[string]int)   // action+orderId → row index
	for i, cv := range batch {
		sentAs[i] = -1
		if o, ok := c.checkTiming(cv, now); !ok {
			out[i] = o
			continue
		}
		row, err := c.build.conversion(cv)
		if err != nil {
			out[i] = rejected(err.Error())
			continue
		}
		// The same conversion twice in one request would be
		// DUPLICATE_ORDER_ID, which Google documents as "not processed":
		// send it once and give every copy that row's outcome.
		key := row.ConversionAction + "\x00" + row.OrderID
		if j, dup := byOrder[key]; dup {
			sentAs[i] = j
			continue
		}
		byOrder[key] = len(rows)
		sentAs[i] = len(rows)
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return out
	}

	var results []conversions.Outcome
	if len(rows) > maxConversions {
		// Google would refuse the whole request; let the dispatcher split.
		results = conversions.Outcomes(len(rows), conversions.Outcome{
			Class:      conversions.Rejected,
			Reason:     fmt.Sprintf("batch of %d conversions exceeds Google's limit of %d (TOO_MANY_CONVERSIONS_IN_REQUEST)", len(rows), maxConversions),
			WholeBatch: true,
		})
	} else if body, err := c.build.body(rows); err != nil {
		results = conversions.Outcomes(len(rows), rejected(err.Error()))
	} else {
		results = c.upload(ctx, body, len(rows))
	}
	for i, j := range sentAs {
		if j >= 0 {
			out[i] = results[j]
		}
	}
	return out
}

// upload posts body and classifies the answer. A 401 about the access
// token gets one fresh token and one more try, inside this Send.
func (c *Client) upload(ctx context.Context, body []byte, n int) []conversions.Outcome {
	tok, err := c.tokens.get(ctx)
	if err != nil {
		return conversions.Outcomes(n, tokenOutcome(err))
	}
	ans, err := c.post(ctx, body, tok)
	if err != nil {
		return conversions.Outcomes(n, conversions.TransportFailure(err))
	}
	if ans.Status == http.StatusUnauthorized && oauthRefreshable(ans.Body) {
		c.tokens.invalidate(tok)
		if tok, err = c.tokens.get(ctx); err != nil {
			return conversions.Outcomes(n, tokenOutcome(err))
		}
		if ans, err = c.post(ctx, body, tok); err != nil {
			return conversions.Outcomes(n, conversions.TransportFailure(err))
		}
	}
	if ans.Status == http.StatusOK {
		return classifyOK(ans.Body, n, c.cfg.ValidateOnly)
	}
	return classifyError(ans.Status, ans.Header, ans.Body, c.now(), n)
}

func (c *Client) post(ctx context.Context, body []byte, token string) (conversions.Answer, error) {
	header := http.Header{
		"Content-Type":    {"application/json"},
		"Authorization":   {"Bearer " + token},
		"Developer-Token": {c.cfg.DeveloperToken},
	}
	if c.cfg.LoginCustomerID != "" {
		header.Set("login-customer-id", c.cfg.LoginCustomerID)
	}
	ans, err := conversions.Send(ctx, c.http, conversions.Post{
		Platform: "google_ads", URL: c.uploadURL, Body: body, Header: header,
		Timeout: c.cfg.Timeout, MaxAnswer: maxResponseBytes,
	})
	if err != nil {
		return ans, fmt.Errorf("upload click conversions: %w", err)
	}
	if ans.ReadErr != nil {
		return ans, fmt.Errorf("(HTTP %d) %w", ans.Status, ans.ReadErr)
	}
	return ans, nil
}

func tokenOutcome(err error) conversions.Outcome {
	var te *tokenError
	if errors.As(err, &te) {
		return te.outcome
	}
	return conversions.TransportFailure(err)
}
