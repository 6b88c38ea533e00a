// Package linkedin delivers conversions to the LinkedIn Conversions API
// (POST {base_url}/rest/conversionEvents, docs/contracts/ad-platforms.md §5).
//
// What LinkedIn takes, and so what this client sends:
//   - user.userIds: SHA256_EMAIL (trimmed, lower-cased, then hashed; PostHog's
//     template forgets the lower-casing) and LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID
//     (the li_fat_id click id, plain). At least one is required: LinkedIn
//     answers 422 to a conversion identified by userInfo alone.
//   - user.userInfo: plain first and last name (both or none), company, title
//     and country code.
//   - user.externalIds: the contact's external id, plain, on versions from
//     202410 on (LinkedIn reads only the first element).
//
// LinkedIn has no phone, address, IP, user-agent or page-URL fields, no event
// names (the conversion rule carries the type), no consent fields and no test
// flag, so those parts of a Conversion are not sent.
package linkedin
