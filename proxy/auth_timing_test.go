package proxy

import (
	"context"
	"testing"
)

// BenchmarkAuthenticateCached: a valid key answered from the found cache, by
// parallel requests (the cache's lock is shared).
func BenchmarkAuthenticateCached(b *testing.B) {
	f := newAuthFixture(b)
	header := []byte("Bearer " + f.key)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, aerr := f.a.Authenticate(context.Background(), header, nil, "192.0.2.1"); aerr != nil {
				b.Fatal(aerr.msg)
			}
		}
	})
}

// BenchmarkAuthenticateThrottled: made-up keys from a throttled network, the
// cost a key-guessing flood puts on the proxy.
func BenchmarkAuthenticateThrottled(b *testing.B) {
	f := newAuthFixture(b)
	for range authMaxFailures {
		f.auth(randomKey(b), "192.0.2.1")
	}
	header := []byte("Bearer " + randomKey(b))
	b.ReportAllocs()
	for b.Loop() {
		if _, aerr := f.a.Authenticate(context.Background(), header, nil, "192.0.2.1"); aerr == nil || aerr.status != 429 {
			b.Fatal("not throttled")
		}
	}
}
