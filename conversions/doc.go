// Package conversions derives ad-platform conversions from fresh events and
// delivers them server to server: rules decide which events convert, one
// Destination per platform builds and sends the platform's payload, and the
// dispatcher queues every conversion durably per destination, retries with
// backoff behind a circuit breaker and dead-letters what a platform refuses.
//
// Platform clients live in subpackages (meta, googleads, tiktok, linkedin,
// reddit); they know their wire format and nothing about queues.
package conversions
