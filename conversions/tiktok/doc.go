// Package tiktok delivers conversions to the TikTok Events API v1.3
// ("Events API 2.0"): POST /open_api/v1.3/event/track/ with an Access-Token
// header, one web event per conversion in "data", deduplicated by TikTok on
// event + event_id for 48 hours.
//
// TikTok answers business errors with HTTP 200 and a non-zero "code", so
// every 200 is decoded and classified by its code (response.go), never
// trusted by status alone.
package tiktok
