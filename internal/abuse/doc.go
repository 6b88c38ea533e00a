// Package abuse is a hostile client of a running hogsend-proxy: slow and
// lying connections, header floods, compression bombs of every encoding,
// oversized and deeply nested payloads, random bytes on every route, identity
// takeover payloads sent with the public capture token, and floods of random
// API keys. Each Attack reports every answer it got and what was wrong with
// it, judged against the answers docs/operations.md § Limits documents.
//
// The abuse suite (this package's tests) drives the hogsend-proxy binary
// with every attack in server and embedded mode; `hogsend-bench -scenario
// hostile` runs them beside legitimate load and measures what they cost it.
package abuse
