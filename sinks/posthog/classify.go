package posthog

import "net/http"

// outcome is what the mirror does after PostHog answered a batch.
type outcome int

const (
	delivered outcome = iota
	retry             // may succeed later: 408, 429, 5xx
	refuseAll         // the batch's token is refused: every event of it
	halve             // something in the batch is refused: find it by halving
)

// classify maps PostHog's answer to the next step
// (docs/posthog-upstream.md § 1.3).
func classify(a *Answer) outcome {
	switch s := a.Status; {
	case s >= 200 && s < 300:
		return delivered
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500:
		return retry
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return refuseAll
	}
	return halve
}

// countsAsDown reports an exchange the breaker counts as a failure.
func countsAsDown(a *Answer, err error) bool {
	return err != nil || a.Status == http.StatusRequestTimeout || a.Status >= 500
}
