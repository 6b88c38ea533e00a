// Package reddit delivers conversions to the Reddit Conversions API v3
// (POST {base_url}/api/v3/pixels/{pixel_id}/conversion_events).
//
// Wire contract (docs/contracts/ad-platforms.md §6.2–§6.4): Bearer conversion token,
// event_at in epoch milliseconds, conversion_id (Hogsend's DedupID) in the
// metadata as the dedup key, at most 1,000 events per request, events less
// than 168 h old and at most 5 min in the future. One invalid event makes
// Reddit refuse the whole request, so the client validates every conversion
// first and refuses the bad ones itself, sending the rest.
//
// v2.0 is deprecated and out of scope.
package reddit
