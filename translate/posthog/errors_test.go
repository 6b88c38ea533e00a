package posthog

import (
	"errors"
	"io"
	"testing"
)

func TestErrorKindsAndReasons(t *testing.T) {
	f := func(err error, kind error, reason, msg string) {
		t.Helper()
		if !errors.Is(err, kind) || Reason(err) != reason || err.Error() != msg {
			t.Fatalf("%v: Is(%v)=%v, Reason=%q, want %q", err, kind, errors.Is(err, kind), Reason(err), reason)
		}
	}
	cause := io.ErrUnexpectedEOF
	wrapped := wrapError(ErrInvalidPayload, "decode gzip body", cause)
	f(wrapped, ErrInvalidPayload, "invalid_payload", "decode gzip body: unexpected EOF")
	if !errors.Is(wrapped, io.ErrUnexpectedEOF) {
		t.Fatalf("the cause is not reachable")
	}
	f(newError(ErrEmptyPayload, "x"), ErrEmptyPayload, "empty_payload", "x")
	f(newError(ErrTooLarge, "x"), ErrTooLarge, "too_large", "x")
	f(newError(ErrTooDeep, "x"), ErrTooDeep, "too_deep", "x")
	f(newError(ErrDecodeRatio, "x"), ErrDecodeRatio, "decode_ratio", "x")
	f(newError(ErrOverloaded, "x"), ErrOverloaded, "overloaded", "x")
	f(newError(ErrTooManyEvents, "x"), ErrTooManyEvents, "too_many_events", "x")
	f(newError(ErrEventTooLarge, "x"), ErrEventTooLarge, "event_too_large", "x")
	f(newError(ErrTooManyProperties, "x"), ErrTooManyProperties, "too_many_properties", "x")
	f(newError(ErrPropertyTooLarge, "x"), ErrPropertyTooLarge, "property_too_large", "x")
	f(newError(ErrEmptyBatch, "x"), ErrEmptyBatch, "empty_batch", "x")
	f(newError(ErrMissingEventName, "x"), ErrMissingEventName, "missing_event_name", "x")
	f(newError(ErrMissingDistinctID, "x"), ErrMissingDistinctID, "missing_distinct_id", "x")
	f(newError(ErrInvalidUUID, "x"), ErrInvalidUUID, "invalid_uuid", "x")
	f(newError(ErrInvalidCookielessMode, "x"), ErrInvalidCookielessMode, "invalid_cookieless_mode", "x")
	f(newError(ErrNoToken, "x"), ErrNoToken, "no_token", "x")
	f(newError(ErrInvalidToken, "x"), ErrInvalidToken, "invalid_token", "x")
	f(newError(ErrMultipleTokens, "x"), ErrMultipleTokens, "multiple_tokens", "x")
	if Reason(io.EOF) != "other" || Reason(nil) != "other" {
		t.Fatalf("foreign errors must be labelled other")
	}
}
