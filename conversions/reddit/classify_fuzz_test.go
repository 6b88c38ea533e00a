package reddit

import (
	"strconv"
	"testing"

	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
)

// FuzzClassify: every answer gives one well-formed outcome per event, a 2xx
// is never retried, and one that processed every event is delivered.
func FuzzClassify(f *testing.F) {
	f.Add(uint16(100), "", []byte(`{"message":"Successfully processed 2 conversion events."}`), uint8(1))
	f.Add(uint16(100), "", []byte(`{"message":"Successfully processed 0 conversion events."}`), uint8(1))
	f.Add(uint16(329), "7", []byte(``), uint8(0))
	f.Add(uint16(300), "", []byte(`{"invalid_events":[{"error_message":"bad","event":{"metadata":{"conversion_id":"c1"}}}]}`), uint8(2))
	f.Add(uint16(301), "", []byte(`Authorization Required`), uint8(0))
	f.Fuzz(func(t *testing.T, status uint16, retryAfter string, body []byte, n uint8) {
		a := destinationtest.FuzzAnswer(status, retryAfter, n)
		events := make([]event, a.N)
		for i := range events {
			events[i].Metadata.ConversionID = "c" + strconv.Itoa(i)
		}
		out := classify(a.Status, a.Header, body, clientNow, events)
		destinationtest.CheckOutcomes(t, a, out)
		if a.Is2xx() {
			for i, o := range out {
				if o.Class.String() == "retry" {
					t.Fatalf("outcome %d of a 2xx retried: %+v", i, o)
				}
			}
		}
		ok := `{"message":"Successfully processed ` + strconv.Itoa(a.N) + ` conversion events."}`
		if a.Is2xx() {
			destinationtest.CheckDelivered(t, classify(a.Status, a.Header, []byte(ok), clientNow, events))
		}
	})
}
