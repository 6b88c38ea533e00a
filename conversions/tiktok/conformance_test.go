package tiktok

import (
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/destinationtest"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/tiktokfake"
)

func TestConformance(t *testing.T) {
	destinationtest.Run(t, destinationtest.Platform{
		Start: func(t *testing.T, timeout conversions.Timeout) destinationtest.Pair {
			fake := newFake(t)
			c := newClient(t, fake, func(cfg *Config) { cfg.Timeout = timeout })
			return destinationtest.Pair{Client: c, Script: fake.Script, Ledger: fake.Ledger, Requests: fake.Requests, Close: fake.Close}
		},
		Conversion: func(n int) conversions.Conversion {
			return destinationtest.Conversion(n, "CompletePayment", clock().Add(-time.Hour))
		},
		Invalid: func(n int) conversions.Conversion {
			return destinationtest.Conversion(n, "CompletePayment", clock().Add(-200*24*time.Hour))
		},
		Secrets:     []string{tiktokfake.DefaultAccessToken},
		RateLimited: tiktokfake.ServerError(429, "7"),
		ServerError: tiktokfake.ServerError(503, ""),
		Permanent: destinationtest.Refusal{
			Fault: tiktokfake.InvalidEvent(0, "event", "invalid"),
			Class: conversions.Rejected,
		},
	})
}
