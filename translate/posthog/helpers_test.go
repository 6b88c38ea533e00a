package posthog

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf16"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// fixtureDir is shared/fixtures/posthog seen from this package: the repository
// is /work/main and the shared folder /work/shared.
var fixtureDir = filepath.Join("..", "..", "..", "shared", "fixtures", "posthog")

// readFixture returns a fixture file's text. A missing file skips the test,
// or fails it in CI.
func readFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		testenv.Unavailable(t, "fixture %s: %v", name, err)
	}
	return string(b)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	return gzipWithComment(t, b, "")
}

// gzipWithComment gzips b with comment in the gzip header.
func gzipWithComment(t testing.TB, b []byte, comment string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Comment = comment
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// lzCompressToBase64 is a test-only port of LZString.compressToBase64
// (lz-string 1.5.0 _compress with 6 bits per character). Its output is checked
// against the npm package's vectors, then used to build lz64 request bodies.
func lzCompressToBase64(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
	units := utf16.Encode([]rune(s))
	dict := map[string]int{}
	toCreate := map[string]bool{}
	w := ""
	enlargeIn, dictSize, numBits := 2, 3, 2
	var out []byte
	val, pos := 0, 0
	writeBits := func(value, n int) {
		for i := 0; i < n; i++ {
			val = val<<1 | value&1
			value >>= 1
			if pos == 5 {
				pos = 0
				out = append(out, alphabet[val])
				val = 0
			} else {
				pos++
			}
		}
	}
	grow := func() {
		enlargeIn--
		if enlargeIn == 0 {
			enlargeIn = 1 << numBits
			numBits++
		}
	}
	emitW := func() {
		if toCreate[w] {
			c := int(w[0]) | int(w[1])<<8
			if c < 256 {
				writeBits(0, numBits)
				writeBits(c, 8)
			} else {
				writeBits(1, numBits)
				writeBits(c, 16)
			}
			grow()
			delete(toCreate, w)
		} else {
			writeBits(dict[w], numBits)
		}
		grow()
	}
	for _, u := range units {
		c := string([]byte{byte(u), byte(u >> 8)})
		if _, ok := dict[c]; !ok {
			dict[c] = dictSize
			dictSize++
			toCreate[c] = true
		}
		if wc := w + c; dict[wc] != 0 {
			w = wc
		} else {
			emitW()
			dict[wc] = dictSize
			dictSize++
			w = c
		}
	}
	if w != "" {
		emitW()
	}
	writeBits(2, numBits)
	for {
		val <<= 1
		if pos == 5 {
			out = append(out, alphabet[val])
			break
		}
		pos++
	}
	for len(out)%4 != 0 {
		out = append(out, '=')
	}
	return string(out)
}

// fixtureText is readFixture for tables: a missing file gives "" (tests skip
// such rows) instead of skipping the whole test; CI still fails.
func fixtureText(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		if testenv.InCI() {
			t.Fatalf("fixture %s: %v", name, err)
		}
		return ""
	}
	return string(b)
}
