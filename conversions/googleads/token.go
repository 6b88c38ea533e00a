package googleads

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// tokenRefreshMargin: a cached access token is replaced this long before
// Google says it expires, so a request never leaves with a token that dies
// in flight.
const tokenRefreshMargin = time.Minute

// tokenSource runs the OAuth2 refresh-token grant and caches the access
// token. The mutex is held across the token request on purpose: concurrent
// Sends wait for one refresh instead of each starting their own.
type tokenSource struct {
	http                         *http.Client
	now                          func() time.Time
	url, clientID, secret, grant string

	mu     sync.Mutex
	token  string
	expiry time.Time
}

// tokenError is a failed refresh, already classified for the dispatcher.
type tokenError struct{ outcome conversions.Outcome }

func (e *tokenError) Error() string { return e.outcome.Reason }

// get returns a valid access token, refreshing it when needed.
func (t *tokenSource) get(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && t.now().Before(t.expiry) {
		return t.token, nil
	}
	tok, ttl, err := t.fetch(ctx)
	if err != nil {
		return "", err
	}
	t.token, t.expiry = tok, t.now().Add(ttl-tokenRefreshMargin)
	return tok, nil
}

// invalidate drops tok after the API refused it, unless another Send has
// already replaced it.
func (t *tokenSource) invalidate(tok string) {
	t.mu.Lock()
	if t.token == tok {
		t.token = ""
	}
	t.mu.Unlock()
}

type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	ExpiresIn        int64  `json:"expires_in"`
	TokenType        string `json:"token_type"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func (t *tokenSource) fetch(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{
		"client_id":     {t.clientID},
		"client_secret": {t.secret},
		"refresh_token": {t.grant},
		"grant_type":    {"refresh_token"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, &tokenError{conversions.Outcome{Class: conversions.Halt, Reason: "oauth token request: " + conversions.ErrorText(err)}}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := t.http.Do(req)
	if err != nil {
		o := conversions.TransportFailure(fmt.Errorf("oauth token refresh: %w", err))
		return "", 0, &tokenError{o}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		o := conversions.TransportFailure(fmt.Errorf("read oauth token response: %w", err))
		o.Status = resp.StatusCode
		return "", 0, &tokenError{o}
	}
	var body tokenResponse
	jsonErr := json.Unmarshal(raw, &body)

	if resp.StatusCode != http.StatusOK {
		reason := fmt.Sprintf("oauth token refresh: HTTP %d", resp.StatusCode)
		if body.Error != "" {
			reason += ": " + body.Error
			if body.ErrorDescription != "" {
				reason += ": " + body.ErrorDescription
			}
		}
		o := conversions.Outcome{Class: conversions.Halt, Reason: reason, Status: resp.StatusCode}
		if conversions.RetryableStatus(resp.StatusCode) {
			o.Class = conversions.Retry
			o.RetryAfter = conversions.RetryAfter(resp.Header, t.now())
		}
		// invalid_grant (revoked or expired refresh token), invalid_client
		// and the like stay Halt: only a config change fixes them.
		return "", 0, &tokenError{o}
	}
	if jsonErr != nil || body.AccessToken == "" {
		// A 200 without a token is a broken proxy or endpoint: try later.
		return "", 0, &tokenError{conversions.Outcome{Class: conversions.Retry, Reason: "oauth token refresh: answer without access_token", Status: resp.StatusCode}}
	}
	if body.TokenType != "" && !strings.EqualFold(body.TokenType, "bearer") {
		return "", 0, &tokenError{conversions.Outcome{Class: conversions.Halt, Reason: fmt.Sprintf("oauth token refresh: token_type %q, want Bearer", body.TokenType), Status: resp.StatusCode}}
	}
	return body.AccessToken, time.Duration(body.ExpiresIn) * time.Second, nil
}
