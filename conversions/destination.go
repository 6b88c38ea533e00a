package conversions

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Destination is one ad platform account. Send delivers one batch (at most
// MaxBatch conversions) and reports one Outcome per conversion, in order.
// Send never retries by itself: the dispatcher owns retries, backoff and the
// breaker, so a client only classifies what the platform answered.
type Destination interface {
	// Name is the destination's config key: "meta", "google_ads", "tiktok",
	// "linkedin", "reddit", "ga4".
	Name() string
	// MaxBatch is the platform's largest accepted batch.
	MaxBatch() int
	// Send returns len(batch) outcomes. A conversion the client refuses
	// before sending (too old, no identifier) is Rejected without being sent.
	Send(ctx context.Context, batch []Conversion) []Outcome
}

// Class is what the dispatcher does with a conversion after an attempt.
type Class int

const (
	// Delivered: the platform accepted it (or already had it: duplicates
	// such as Google's ORDER_ID_ALREADY_IN_USE count as delivered).
	Delivered Class = iota
	// Retry: transient (network error, 408, 429, 5xx, the platform's
	// retryable codes); re-send the same conversion after backoff.
	Retry
	// Rejected: permanent for this conversion; dead-letter it with Reason.
	Rejected
	// Halt: the destination is misconfigured (expired token, retired API
	// version, unknown pixel); stop the destination loudly, keep its queue.
	Halt
)

func (c Class) String() string {
	switch c {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case Rejected:
		return "rejected"
	case Halt:
		return "halt"
	}
	return "unknown"
}

// Outcome is the result of one attempt for one conversion.
type Outcome struct {
	Class  Class
	Reason string // the platform's error text (or ours), "" when delivered
	// RetryAfter is the platform's requested wait (Retry-After header or a
	// documented delay such as Google's TOO_RECENT); 0 lets backoff decide.
	RetryAfter time.Duration
	// WholeBatch marks a rejection of the whole request for what may be one
	// bad conversion (Meta, LinkedIn, Reddit answer 400 for the batch): the
	// dispatcher splits the batch and re-sends the halves to find it.
	WholeBatch bool
	// Status is the HTTP status of the attempt, 0 when none was received.
	Status int
}

// ClientOptions are what every platform client gets besides its own config.
type ClientOptions struct {
	HTTP *http.Client     // nil: a client with a 30 s timeout
	Now  func() time.Time // nil: time.Now; age windows are checked against it
}

// HTTPClient returns o.HTTP or a default client.
func (o ClientOptions) HTTPClient() *http.Client {
	if o.HTTP != nil {
		return o.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// Clock returns o.Now or time.Now.
func (o ClientOptions) Clock() func() time.Time {
	if o.Now != nil {
		return o.Now
	}
	return time.Now
}

// Outcomes returns n copies of o, for answers that apply to a whole batch.
func Outcomes(n int, o Outcome) []Outcome {
	out := make([]Outcome, n)
	for i := range out {
		out[i] = o
	}
	return out
}

// BuildBatch turns the conversions of batch into a platform's items with
// build, recording in out (one outcome per conversion) those it will not
// send: past max (when max > 0) a conversion comes back Retry, to go with a
// later batch (the dispatcher never passes more); one that does not build is
// Rejected with prefix and its error, so that it cannot fail the others. It
// returns the items and the batch index of each.
func BuildBatch[T any](batch []Conversion, out []Outcome, max int, prefix string, build func(*Conversion) (T, error)) (items []T, pos []int) {
	n := len(batch)
	if max > 0 && n > max {
		n = max
		for i := max; i < len(batch); i++ {
			out[i] = Outcome{Class: Retry, Reason: fmt.Sprintf("not sent: over the batch limit of %d", max)}
		}
	}
	items, pos = make([]T, 0, n), make([]int, 0, n)
	for i := range batch[:n] {
		it, err := build(&batch[i])
		if err != nil {
			out[i] = Outcome{Class: Rejected, Reason: prefix + err.Error()}
			continue
		}
		items = append(items, it)
		pos = append(pos, i)
	}
	return items, pos
}

// SendAsOne is Send for a platform that takes a batch in one request and
// answers for it as a whole: the conversions that build go out together
// (those that do not, or are past max, are answered as BuildBatch does) and
// share post's outcome.
func SendAsOne[T any](batch []Conversion, max int, build func(*Conversion) (T, error), post func([]T) Outcome) []Outcome {
	out := make([]Outcome, len(batch))
	items, sent := BuildBatch(batch, out, max, "", build)
	if len(items) == 0 {
		return out
	}
	o := post(items)
	for _, i := range sent {
		out[i] = o
	}
	return out
}
