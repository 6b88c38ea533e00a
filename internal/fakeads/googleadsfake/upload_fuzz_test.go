package googleadsfake_test

import (
	"encoding/json"
	"testing"
)

// FuzzUploadBody posts arbitrary bodies with valid credentials: the fake
// must never panic and must always answer Google's way, a JSON 200 (with or
// without partial failures) or a JSON 400.
func FuzzUploadBody(f *testing.F) {
	f.Add(`{"conversions":[{"conversionAction":"customers/1231231234/conversionActions/123456789","conversionDateTime":"2025-01-01 00:00:00+00:00","gclid":"Cj0KCQiAtest","orderId":"o"}],"partialFailure":true}`)
	f.Add(`{"conversions":[{"user_identifiers":[{"hashed_email":null,"address_info":{}}],"conversion_value":"NaN"}],"partial_failure":false,"job_id":"7"}`)
	f.Add(`{"conversions":[{},{"consent":{"adUserData":"GRANTED"}},null],"partialFailure":true,"validateOnly":true}`)
	f.Add(`[]`)
	f.Add(`{"conversions":"x","partialFailure":1}`)
	s := newFake(f)
	tok := accessToken(f, s)
	f.Fuzz(func(t *testing.T, body string) {
		status, raw := call{body: body}.do(t, s, tok)
		if status != 200 && status != 400 {
			t.Fatalf("HTTP %d for %q: %s", status, body, raw)
		}
		if !json.Valid(raw) {
			t.Fatalf("answer is not JSON: %s", raw)
		}
	})
}
