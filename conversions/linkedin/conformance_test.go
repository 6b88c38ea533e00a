package linkedin_test

import (
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
	"github.com/hogsend/hogsend-proxy/conversions/linkedin"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/linkedinfake"
)

func TestConformance(t *testing.T) {
	destinationtest.Run(t, destinationtest.Platform{
		Start: func(t *testing.T, timeout conversions.Timeout) destinationtest.Pair {
			fake := newFake(t)
			c := newClient(t, fake, func(cfg *linkedin.Config) { cfg.Timeout = timeout })
			return destinationtest.Pair{Client: c, Script: fake.Script, Ledger: fake.Ledger, Requests: fake.Requests, Close: fake.Close}
		},
		Conversion: func(n int) conversions.Conversion {
			return destinationtest.Conversion(n, "PURCHASE", now.Add(-time.Hour))
		},
		Invalid: func(n int) conversions.Conversion {
			return destinationtest.Conversion(n, "PURCHASE", now.Add(-200*24*time.Hour))
		},
		Secrets:     []string{linkedinfake.DefaultToken},
		RateLimited: linkedinfake.RateLimited(7),
		ServerError: linkedinfake.ServerError(503),
		Permanent:   destinationtest.Refusal{Fault: linkedinfake.Unprocessable("payload invalid"), Class: conversions.Rejected},
	})
}
