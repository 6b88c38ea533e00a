package tiktok

import (
	"encoding/json"
	"testing"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
)

// FuzzClassify: every answer gives one well-formed outcome per event, and a
// 2xx with code 0 is delivered.
func FuzzClassify(f *testing.F) {
	f.Add(uint16(100), "", []byte(`{"code":0,"message":"OK","request_id":"r"}`), uint8(0))
	f.Add(uint16(100), "7", []byte(`{"code":40100,"message":"Too many requests"}`), uint8(2))
	f.Add(uint16(100), "", []byte(`{"code":40002,"message":"Batch.1.event: invalid"}`), uint8(3))
	f.Add(uint16(329), "3", []byte(`{"code":50000}`), uint8(1))
	f.Add(uint16(101), "", []byte(``), uint8(1))
	f.Fuzz(func(t *testing.T, status uint16, retryAfter string, body []byte, n uint8) {
		a := destinationtest.FuzzAnswer(status, retryAfter, n)
		out := conversions.Outcomes(a.N, classify(a.Status, a.Header, body, clock(), a.N))
		destinationtest.CheckOutcomes(t, a, out)
		var probe struct {
			Code *int `json:"code"`
		}
		if a.Is2xx() && json.Unmarshal(body, &probe) == nil && probe.Code != nil && *probe.Code == 0 {
			destinationtest.CheckDelivered(t, out)
		}
	})
}
