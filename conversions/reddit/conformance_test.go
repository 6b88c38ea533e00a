package reddit

import (
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
	"github.com/hogsend/hogsend-proxy/internal/fakeads"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/redditfake"
)

func TestConformance(t *testing.T) {
	destinationtest.Run(t, destinationtest.Platform{
		Start: func(t *testing.T, timeout conversions.Timeout) destinationtest.Pair {
			c, fake := setup(t, func(cfg *Config) { cfg.Timeout = timeout })
			return destinationtest.Pair{Client: c, Script: fake.Script, Ledger: fake.Ledger, Requests: fake.Requests, Close: fake.Close}
		},
		Conversion: func(n int) conversions.Conversion {
			return destinationtest.Conversion(n, "Purchase", clientNow.Add(-time.Hour))
		},
		Invalid: func(n int) conversions.Conversion {
			return destinationtest.Conversion(n, "Purchase", clientNow.Add(-200*24*time.Hour))
		},
		Secrets:     []string{redditfake.DefaultToken},
		RateLimited: fakeads.Fault{Status: 429, Header: map[string]string{"Retry-After": "7"}},
		ServerError: fakeads.Fault{Status: 500, Body: `{"message":"internal error"}`},
		Permanent:   destinationtest.Refusal{Fault: fakeads.Fault{Status: 422, Body: `{"message":"unprocessable"}`}, Class: conversions.Rejected},
	})
}
