package posthog

import (
	"bytes"
	"compress/gzip"
	"testing"
)

// lzBombBase64 is an lz64 body that names the newest dictionary entry on
// every code (lz-string's cScSc case), so that each code adds an entry one
// unit longer than the last: k codes decode to about k²/2 copies of c.
func lzBombBase64(codes int, c byte) []byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
	var out []byte
	val, pos := 0, 0
	writeBits := func(value, n int) {
		for i := 0; i < n; i++ {
			val = val<<1 | value&1
			value >>= 1
			if pos == 5 {
				out = append(out, alphabet[val])
				val, pos = 0, 0
			} else {
				pos++
			}
		}
	}
	writeBits(0, 2) // an 8-bit literal starts the stream
	writeBits(int(c), 8)
	// The decompressor's code width: 3 bits after the first literal,
	// widened whenever enlargeIn runs out (twice per code at most).
	size, enlargeIn, numBits := 4, 4, 3
	step := func() {
		if enlargeIn--; enlargeIn == 0 {
			enlargeIn = 1 << numBits
			numBits++
		}
	}
	for i := 0; i < codes; i++ {
		writeBits(size, numBits)
		size++
		step()
	}
	writeBits(2, numBits)
	for pos != 0 {
		writeBits(0, 1)
	}
	return out
}

// gzipBomb is n zero bytes inside a JSON string, gzipped: about a
// thousand to one.
func gzipBomb(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write([]byte(`{"event":"e","distinct_id":"d","api_key":"t","properties":{"x":"`))
	chunk := bytes.Repeat([]byte{'0'}, 1<<20)
	for n > 0 {
		k := min(n, len(chunk))
		zw.Write(chunk[:k])
		n -= k
	}
	zw.Write([]byte(`"}}`))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
