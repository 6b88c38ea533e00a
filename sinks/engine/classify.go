package engine

import (
	"bytes"
	"net/http"
)

// outcome is what the hand-off does after one exchange.
type outcome int

const (
	delivered outcome = iota // the engine took it (or had it)
	retry                    // may succeed later: network errors, 408, 429, 5xx
	hold                     // the hand-off's key is refused: retry, and say so
	refused                  // the engine refuses this record for good: dead letter
)

// classify maps an engine answer to what to do next
// (docs/upstream.md § 3.3).
func classify(r *Request, a *Answer) outcome {
	switch s := a.Status; {
	case s >= 200 && s < 300:
		return delivered
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500:
		return retry
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		// The same key sends every record: a refusal is the configuration's
		// fault, never this record's.
		return hold
	case s == http.StatusNotFound && r.Method == http.MethodDelete && bytes.Contains(a.Body, []byte("Contact not found")):
		// The engine never had the contact: the delete is done.
		return delivered
	}
	return refused
}

// countsAsDown reports an outcome the breaker counts as a failure: the
// engine did not answer, or answered that it cannot serve.
func countsAsDown(a *Answer, err error) bool {
	return err != nil || a.Status == http.StatusRequestTimeout || a.Status >= 500
}
