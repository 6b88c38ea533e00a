package posthog

import (
	"testing"
)

// Memory per decode of an lz64 body: B/op and allocs/op are the figures to
// read. The bomb is a 30 KB body that would decode to 98 MB.

func BenchmarkDecodeLZ64Batch50(b *testing.B) {
	js := benchBatch(b, 50)
	in := RequestInput{Path: "/batch/", ContentEncoding: "lz64", Body: []byte(lzCompressToBase64(string(js)))}
	b.ReportAllocs()
	b.SetBytes(int64(len(in.Body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := DecodeRequest(in, Limits{})
		if err != nil || len(out) != len(js) {
			b.Fatalf("decoded %d bytes, want %d: %v", len(out), len(js), err)
		}
	}
}

func BenchmarkDecodeLZ64Bomb(b *testing.B) {
	in := RequestInput{Path: "/batch/", ContentEncoding: "lz64", Body: lzBombBase64(14000, 'a')}
	b.ReportAllocs()
	b.SetBytes(int64(len(in.Body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		DecodeRequest(in, Limits{}) // refused or not, the cost is what counts
	}
}

func BenchmarkDecodeGzipBomb(b *testing.B) {
	in := RequestInput{Path: "/batch/", ContentType: "text/plain", Body: gzipBomb(b, 99<<20)}
	b.ReportAllocs()
	b.SetBytes(int64(len(in.Body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		DecodeRequest(in, Limits{})
	}
}
