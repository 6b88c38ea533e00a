// Package conversions derives ad-platform conversions from fresh events and
// delivers them server to server: rules decide which events convert, one
// Destination per platform builds and sends the platform's payload, and the
// dispatcher queues every conversion durably per destination, retries with
// backoff behind a circuit breaker and dead-letters what a platform refuses.
//
// Platform clients live in six subpackages (meta, googleads, tiktok,
// linkedin, reddit, ga4); they know their wire format and nothing about
// queues. What they share lives here: Timeout, Send and FailedPost for the
// request, Snippet and ErrorText for reasons, RetryAfter for rate limits.
// Each platform's contract is docs/contracts/ad-platforms.md §2–§7; the
// classes every answer maps to are §1.3. conversions/destinationtest is the
// conformance suite each client runs against its fake.
package conversions
