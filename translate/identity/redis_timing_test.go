package identity_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

func BenchmarkRedisResolve(b *testing.B) {
	srv := testenv.Redis(b)
	var n atomic.Int64
	benchmarkResolve(b, func(tb testing.TB) identity.Store {
		return newRedis(tb, srv.RedisURL(), identity.WithKeyPrefix(fmt.Sprintf("b%d:", n.Add(1))))
	})
}
