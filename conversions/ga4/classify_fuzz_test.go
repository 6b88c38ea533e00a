package ga4

import (
	"encoding/json"
	"testing"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
)

// FuzzClassify: every answer gives one well-formed outcome per request; on
// /mp/collect any 2xx is delivered, on the debug endpoint a 2xx without
// validation messages is.
func FuzzClassify(f *testing.F) {
	f.Add(uint16(104), "", []byte(``), uint8(0), false)
	f.Add(uint16(100), "", []byte(`{"validationMessages":[]}`), uint8(2), true)
	f.Add(uint16(100), "", []byte(`{"validationMessages":[{"fieldPath":"events","validationCode":"VALUE_INVALID"}]}`), uint8(2), true)
	f.Add(uint16(329), "7", []byte(`busy`), uint8(1), false)
	f.Add(uint16(303), "", []byte(`{"error":"forbidden"}`), uint8(1), false)
	f.Fuzz(func(t *testing.T, status uint16, retryAfter string, body []byte, n uint8, debug bool) {
		a := destinationtest.FuzzAnswer(status, retryAfter, n)
		out := conversions.Outcomes(a.N, classify(a.Status, a.Header, body, testNow, debug, a.N))
		destinationtest.CheckOutcomes(t, a, out)
		var probe struct {
			Messages []json.RawMessage `json:"validationMessages"`
		}
		if a.Is2xx() && (!debug || json.Unmarshal(body, &probe) == nil && len(probe.Messages) == 0) {
			destinationtest.CheckDelivered(t, out)
		}
	})
}
