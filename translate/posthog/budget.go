package posthog

// Budget charges the bytes a request's decoding produces against a bound
// shared by every request in flight, so that many small compressed bodies
// cannot together inflate past the process's memory. The proxy gives each
// request its own lease; Reserve may wait briefly for room and returns an
// error (wrapped by the decoder with %w) when there is none: an
// ErrOverloaded error, answered 503 so that clients retry. An error that
// wraps ErrTooLarge says the request could never fit, and is answered 413.
type Budget interface {
	Reserve(n int) error
}

// Yielder is a Budget that a long decode hands control to between chunks
// of its output (every paceBytes), so that the proxy can run lighter
// requests first while a large payload decodes.
type Yielder interface {
	Yield()
}
