package meta

import (
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/metafake"
)

func TestConformance(t *testing.T) {
	destinationtest.Run(t, destinationtest.Platform{
		Start: func(t *testing.T, timeout conversions.Timeout) destinationtest.Pair {
			c, fake := pair(t, func(cfg *Config) { cfg.Timeout = timeout })
			return destinationtest.Pair{Client: c, Script: fake.Script, Ledger: fake.Ledger, Requests: fake.Requests, Close: fake.Close}
		},
		Conversion: func(n int) conversions.Conversion {
			return destinationtest.Conversion(n, "Purchase", now.Add(-time.Hour))
		},
		Invalid: func(n int) conversions.Conversion {
			c := destinationtest.Conversion(n, "Purchase", now.Add(-time.Hour))
			c.OccurredAt = now.Add(-8 * 24 * time.Hour) // past Meta's 7-day window
			return c
		},
		Secrets:     []string{testToken},
		RateLimited: metafake.TooManyRequestsFault("7"),
		ServerError: metafake.ServerFault(),
		Permanent: destinationtest.Refusal{
			Fault: metafake.InvalidParameterFault(metafake.SubcodeNotHashed, "User Parameter Not Hashed", "The ct parameter isn’t hashed."),
			Class: conversions.Rejected,
		},
	})
}
