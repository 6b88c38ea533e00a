package destinationtest

import (
	"net/http"
	"testing"

	"github.com/hogsend/hogsend-proxy/conversions"
)

// Answer is a fuzzed platform answer, mapped onto what a client can get.
type Answer struct {
	Status int         // 100 to 599
	Header http.Header // Retry-After as fuzzed
	N      int         // conversions sent, 1 to 20
}

// FuzzAnswer maps fuzzed numbers onto an Answer.
func FuzzAnswer(status uint16, retryAfter string, n uint8) Answer {
	return Answer{Status: 100 + int(status)%500, Header: http.Header{"Retry-After": {retryAfter}}, N: 1 + int(n)%20}
}

// Is2xx reports a success status.
func (a Answer) Is2xx() bool { return a.Status/100 == 2 }

// CheckOutcomes fails t unless out holds exactly one outcome per conversion,
// each of one known class (docs/contracts/ad-platforms.md §1.3), with a wait
// only on a retry and a reason on everything but a delivery.
func CheckOutcomes(t testing.TB, a Answer, out []conversions.Outcome) {
	t.Helper()
	if len(out) != a.N {
		t.Fatalf("%d outcomes for %d conversions", len(out), a.N)
	}
	for i, o := range out {
		switch o.Class {
		case conversions.Delivered, conversions.Retry, conversions.Rejected, conversions.Halt:
		default:
			t.Fatalf("outcome %d: unknown class %d", i, o.Class)
		}
		if o.RetryAfter < 0 || o.RetryAfter > 0 && o.Class != conversions.Retry {
			t.Fatalf("outcome %d: %s with a wait of %s", i, o.Class, o.RetryAfter)
		}
		if o.Class != conversions.Delivered && o.Reason == "" {
			t.Fatalf("outcome %d: %s without a reason", i, o.Class)
		}
	}
}

// CheckDelivered fails t unless every outcome is a delivery: what a 2xx
// whose body reports no error must give, never a retry.
func CheckDelivered(t testing.TB, out []conversions.Outcome) {
	t.Helper()
	for i, o := range out {
		if o.Class != conversions.Delivered {
			t.Fatalf("outcome %d of an error-free 2xx: %+v", i, o)
		}
	}
}
