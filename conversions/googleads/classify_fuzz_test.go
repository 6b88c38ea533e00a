package googleads

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
)

// FuzzClassify: every answer gives one well-formed outcome per row, and a
// 200 with a result for every row and no partial failure is delivered.
func FuzzClassify(f *testing.F) {
	f.Add(uint16(100), "", []byte(`{"results":[{"gclid":"a"}]}`), uint8(0), false)
	f.Add(uint16(100), "", []byte(`{"partialFailureError":{"code":3,"message":"x","details":[{"errors":[{"errorCode":{"conversionUploadError":"TOO_RECENT_EVENT"},"location":{"fieldPathElements":[{"fieldName":"conversions","index":1}]}}]}]},"results":[{"gclid":"a"},{}]}`), uint8(1), false)
	f.Add(uint16(329), "7", []byte(`{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"errors":[{"errorCode":{"quotaError":"RESOURCE_EXHAUSTED"},"details":{"quotaErrorDetails":{"retryDelay":"60s"}}}]}]}}`), uint8(2), false)
	f.Add(uint16(301), "", []byte(`{"error":{"code":401,"status":"UNAUTHENTICATED"}}`), uint8(0), false)
	f.Add(uint16(100), "", []byte(`{}`), uint8(3), true)
	// Found by the fuzzer: a partial failure error with neither code nor message.
	f.Add(uint16(100), "", []byte(`{"pArtiAlFAilureError":{"detAils":[{"errors":[{}]}]}}`), uint8('X'), false)
	f.Fuzz(func(t *testing.T, status uint16, retryAfter string, body []byte, n uint8, validateOnly bool) {
		a := destinationtest.FuzzAnswer(status, retryAfter, n)
		out := classifyError(a.Status, a.Header, body, testNow, a.N)
		if a.Status == 200 {
			out = classifyOK(body, a.N, validateOnly)
		}
		destinationtest.CheckOutcomes(t, a, out)
		var probe struct {
			PartialFailure json.RawMessage   `json:"partialFailureError"`
			Results        []json.RawMessage `json:"results"`
		}
		if a.Status != 200 || json.Unmarshal(body, &probe) != nil || probe.PartialFailure != nil && string(probe.PartialFailure) != "null" {
			return
		}
		if validateOnly || len(probe.Results) == a.N && !hasEmptyRow(probe.Results) {
			destinationtest.CheckDelivered(t, out)
		}
	})
}

func hasEmptyRow(rows []json.RawMessage) bool {
	for _, r := range rows {
		if s := strings.TrimSpace(string(r)); s == "{}" || s == "null" {
			return true
		}
	}
	return false
}
