// Package ga4 is the GA4 Measurement Protocol destination (docs/contracts/ad-platforms.md §7): it sends
// conversions as events to POST {base}/mp/collect?measurement_id=…&api_secret=…
// so they appear in Google Analytics (and, through GA4 → Ads links, in Ads).
//
// GA4 has no error signal in production: /mp/collect answers 2xx even for a
// malformed body, so this client validates everything it can before sending
// (age window, event name rules, client_id, hashing). The debug endpoint
// (/debug/mp/collect, config debug: true) validates and records nothing; its
// validationMessages become Rejected outcomes.
package ga4
