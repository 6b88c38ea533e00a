// Package posthog mirrors what the proxy captured to a PostHog project
// (docs/posthog-upstream.md § 1): it reads the spool with its own cursor,
// batches the events as gzip /batch/ requests with their original uuids,
// timestamps, distinct ids, properties and project token, $ip set to the
// client's address, and delivers them with retries that honour Retry-After
// behind a breaker. What PostHog refuses for good is isolated by halving
// the batch and dead-lettered for `hogsend-proxy posthog replay`.
package posthog
