package ga4

import (
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
	"github.com/hogsend/hogsend-proxy/internal/fakeads"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/ga4fake"
)

func TestConformance(t *testing.T) {
	clock := func() time.Time { return testNow }
	destinationtest.Run(t, destinationtest.Platform{
		Start: func(t *testing.T, timeout conversions.Timeout) destinationtest.Pair {
			fake := ga4fake.New(ga4fake.WithClock(clock))
			t.Cleanup(fake.Close)
			c, err := New(Config{
				MeasurementID: ga4fake.DefaultMeasurementID, APISecret: ga4fake.DefaultAPISecret,
				BaseURL: fake.URL, Timeout: timeout,
			}, conversions.ClientOptions{Now: clock})
			if err != nil {
				t.Fatal(err)
			}
			return destinationtest.Pair{Client: c, Script: fake.Script, Ledger: fake.Ledger, Requests: fake.Requests, Close: fake.Close}
		},
		Conversion: func(n int) conversions.Conversion {
			return destinationtest.Conversion(n, "purchase", testNow.Add(-time.Hour))
		},
		Invalid: func(n int) conversions.Conversion {
			return destinationtest.Conversion(n, "purchase", testNow.Add(-200*24*time.Hour))
		},
		Secrets:     []string{ga4fake.DefaultAPISecret},
		RateLimited: fakeads.Fault{Status: 429, Header: map[string]string{"Retry-After": "7"}},
		ServerError: fakeads.Fault{Status: 503},
		Permanent:   destinationtest.Refusal{Fault: fakeads.Fault{Status: 403, Body: `{"error":"forbidden"}`}, Class: conversions.Halt},
	})
}
