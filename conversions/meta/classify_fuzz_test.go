package meta

import (
	"encoding/json"
	"testing"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
)

// FuzzClassify: every answer gives one well-formed outcome per event, and a
// 2xx counting every event without an error is delivered.
func FuzzClassify(f *testing.F) {
	f.Add(uint16(100), "", []byte(`{"events_received":1,"fbtrace_id":"x"}`), uint8(0))
	f.Add(uint16(300), "7", []byte(`{"error":{"code":4,"message":"limit"}}`), uint8(2))
	f.Add(uint16(400), "", []byte(`<html>bad gateway</html>`), uint8(1))
	f.Add(uint16(300), "", []byte(`{"error":{"code":190,"error_subcode":463}}`), uint8(3))
	f.Add(uint16(101), "Wed, 21 Oct 2026 07:28:00 GMT", []byte(`{"events_received":0}`), uint8(4))
	f.Fuzz(func(t *testing.T, status uint16, retryAfter string, body []byte, n uint8) {
		a := destinationtest.FuzzAnswer(status, retryAfter, n)
		out := conversions.Outcomes(a.N, classify(a.Status, a.Header, body, now, a.N))
		destinationtest.CheckOutcomes(t, a, out)
		var probe struct {
			Error          json.RawMessage `json:"error"`
			EventsReceived *int            `json:"events_received"`
		}
		if a.Is2xx() && json.Unmarshal(body, &probe) == nil && (probe.Error == nil || string(probe.Error) == "null") &&
			probe.EventsReceived != nil && *probe.EventsReceived == a.N {
			destinationtest.CheckDelivered(t, out)
		}
	})
}
