// Package fakeposthog is a strict fake of a PostHog Cloud project for tests
// and benchmarks: capture (counting each event uuid once), feature flags for
// a distinct id, remote config, the scripts and API calls posthog-js makes,
// and session recordings, with faults on demand. One server can play both
// PostHog hosts, ingestion and assets. The wire contract it checks is
// docs/contracts/posthog-capture.md; where it is stricter than PostHog (a
// uuid on every event, a token on every request) the check says so.
package fakeposthog
