package googleads

import (
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/googleadsfake"
)

func TestConformance(t *testing.T) {
	destinationtest.Run(t, destinationtest.Platform{
		Start: func(t *testing.T, timeout conversions.Timeout) destinationtest.Pair {
			c, fake := setup(t, func(cfg *Config) { cfg.Timeout = timeout })
			return destinationtest.Pair{Client: c, Script: fake.Script, Ledger: fake.Ledger, Requests: fake.Requests, Close: fake.Close}
		},
		Conversion: func(n int) conversions.Conversion {
			return destinationtest.Conversion(n, "Purchase", testNow.Add(-24*time.Hour))
		},
		Invalid: func(n int) conversions.Conversion {
			return destinationtest.Conversion(n, "Purchase", testNow.Add(-200*24*time.Hour))
		},
		Secrets:     []string{googleadsfake.DefaultDeveloperToken, googleadsfake.DefaultClientSecret, googleadsfake.DefaultRefreshToken},
		RateLimited: googleadsfake.ResourceExhaustedFault("7", ""),
		ServerError: googleadsfake.UnavailableFault(),
		Permanent: destinationtest.Refusal{
			Fault: googleadsfake.RPCFault(400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
			Class: conversions.Rejected,
		},
	})
}
