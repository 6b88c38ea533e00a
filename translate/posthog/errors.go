// Package posthog turns PostHog capture requests (v0: /e, /i/v0/e, /batch,
// /capture, /track, /engage, /i/v0/ai/batch) into raw events: it unwraps the
// request encodings (gzip, lz64, base64, form data=), recognises the payload
// shapes, resolves the project token, the distinct_id, the uuid and the event
// time the way PostHog's capture does (docs/contracts/posthog-capture.md §7.2).
//
// It knows nothing about HTTP: the proxy passes the request parts in and maps
// the typed errors below to status codes.
package posthog

import "errors"

// Error kinds. Every error returned by this package is an *Error whose Kind is
// one of these, so callers can use errors.Is. The HTTP layer answers:
//
//	ErrTooLarge, ErrDecodeRatio, ErrTooManyEvents, ErrEventTooLarge  413
//	ErrNoToken, ErrInvalidToken, ErrMultipleTokens                   401
//	ErrOverloaded                                                    503
//	everything else                                                  400
var (
	ErrEmptyPayload          = errors.New("request missing data payload")
	ErrInvalidPayload        = errors.New("invalid payload")
	ErrTooDeep               = errors.New("JSON nested too deeply") //nolint:staticcheck // wire string
	ErrTooLarge              = errors.New("payload too large")
	ErrDecodeRatio           = errors.New("payload decompresses too far")
	ErrOverloaded            = errors.New("too many decoded bytes in flight")
	ErrTooManyEvents         = errors.New("too many events in one request")
	ErrEventTooLarge         = errors.New("event too large")
	ErrTooManyProperties     = errors.New("too many properties")
	ErrPropertyTooLarge      = errors.New("property value too large")
	ErrEmptyBatch            = errors.New("empty batch")
	ErrMissingEventName      = errors.New("missing event name")
	ErrMissingDistinctID     = errors.New("missing distinct_id")
	ErrInvalidUUID           = errors.New("invalid uuid")
	ErrInvalidCookielessMode = errors.New("invalid $cookieless_mode")
	ErrNoToken               = errors.New("missing project api key")
	ErrInvalidToken          = errors.New("invalid project api key")
	ErrMultipleTokens        = errors.New("multiple project api keys in one request")
)

// Error is a request that cannot be accepted. Error() is a lower-case reason
// with context, fit to be sent back to the client.
type Error struct {
	Kind  error // one of the Err* kinds above
	msg   string
	cause error
}

func (e *Error) Error() string { return e.msg }

// Unwrap exposes both the kind and the underlying cause to errors.Is/As.
func (e *Error) Unwrap() []error {
	if e.cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.cause}
}

func newError(kind error, msg string) *Error { return &Error{Kind: kind, msg: msg} }

// wrapError builds "msg: cause".
func wrapError(kind error, msg string, cause error) *Error {
	return &Error{Kind: kind, msg: msg + ": " + cause.Error(), cause: cause}
}

// Reason is a short snake_case label for err, for metrics that count every
// rejected request by reason. Errors not from this package give "other".
func Reason(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return "other"
	}
	switch e.Kind {
	case ErrEmptyPayload:
		return "empty_payload"
	case ErrInvalidPayload:
		return "invalid_payload"
	case ErrTooDeep:
		return "too_deep"
	case ErrTooLarge:
		return "too_large"
	case ErrDecodeRatio:
		return "decode_ratio"
	case ErrOverloaded:
		return "overloaded"
	case ErrTooManyEvents:
		return "too_many_events"
	case ErrEventTooLarge:
		return "event_too_large"
	case ErrTooManyProperties:
		return "too_many_properties"
	case ErrPropertyTooLarge:
		return "property_too_large"
	case ErrEmptyBatch:
		return "empty_batch"
	case ErrMissingEventName:
		return "missing_event_name"
	case ErrMissingDistinctID:
		return "missing_distinct_id"
	case ErrInvalidUUID:
		return "invalid_uuid"
	case ErrInvalidCookielessMode:
		return "invalid_cookieless_mode"
	case ErrNoToken:
		return "no_token"
	case ErrInvalidToken:
		return "invalid_token"
	case ErrMultipleTokens:
		return "multiple_tokens"
	}
	return "other"
}
