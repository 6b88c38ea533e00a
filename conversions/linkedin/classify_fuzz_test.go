package linkedin

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
)

// FuzzClassify: every answer gives one well-formed outcome per event, and a
// 2xx whose elements all succeeded (or a single create) is delivered.
func FuzzClassify(f *testing.F) {
	f.Add(uint16(101), "", []byte(``), uint8(0))
	f.Add(uint16(100), "", []byte(`{"elements":[{"status":201},{"status":201}]}`), uint8(1))
	f.Add(uint16(101), "7", []byte(`{"elements":[{"status":201},{"status":429}]}`), uint8(1))
	f.Add(uint16(322), "", []byte(`{"status":422,"message":"Index: 1, ERROR :: /user :: bad"}`), uint8(2))
	f.Add(uint16(329), "7", []byte(`{"status":429,"code":"TOO_MANY_REQUESTS"}`), uint8(3))
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, status uint16, retryAfter string, body []byte, n uint8) {
		a := destinationtest.FuzzAnswer(status, retryAfter, n)
		out := classify(a.Status, a.Header, body, now, a.N)
		destinationtest.CheckOutcomes(t, a, out)
		var probe struct {
			Elements []struct {
				Status int `json:"status"`
			} `json:"elements"`
		}
		ok := a.N == 1 || json.Unmarshal(body, &probe) == nil
		for _, el := range probe.Elements {
			ok = ok && (el.Status == 0 || el.Status/100 == 2)
		}
		if a.Is2xx() && ok {
			destinationtest.CheckDelivered(t, out)
		}
	})
}
