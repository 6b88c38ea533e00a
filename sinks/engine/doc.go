// Package engine hands what the proxy stored off to a Hogsend engine
// (docs/upstream.md § 3): it reads the spool with its own cursor, turns each
// engine call written with the records into the engine's request, and
// delivers it once, in spool order per contact, with bounded concurrency,
// retries that honour Retry-After, a circuit breaker, and a dead-letter
// table for what the engine refuses for good. Clients of native requests
// waiting for the engine's answer (HOGSEND_UPSTREAM_MODE=sync) get it
// through Answers.
package engine
