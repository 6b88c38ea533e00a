// Package googleads delivers conversions to Google Ads with
// ConversionUploadService.UploadClickConversions over REST: one request per
// batch, matched on the click id (gclid, else gbraid, else wbraid) and on the
// enhanced-conversions-for-leads user identifiers (SHA-256 of the normalised
// email and E.164 phone). Wire contract: docs/contracts/ad-platforms.md §3.
//
// Google answers row problems with HTTP 200 and a partialFailureError, so the
// client maps every error back to its row through
// location.fieldPathElements[{fieldName:"conversions", index:N}] and reports
// one Outcome per conversion. OAuth access tokens come from the refresh-token
// flow and are cached until shortly before they expire.
package googleads
