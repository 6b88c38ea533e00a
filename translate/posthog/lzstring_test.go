package posthog

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecompressLZStringBase64Vectors(t *testing.T) {
	for _, v := range lzVectors(t) {
		if strings.HasPrefix(v.name, "fixture") && v.input == "" {
			t.Logf("%s: fixture not available", v.name)
			continue
		}
		got, err := DecompressLZStringBase64([]byte(v.lz64), 0)
		if err != nil {
			t.Fatalf("%s: unexpected error: %v", v.name, err)
		}
		if string(got) != v.input {
			t.Fatalf("%s: got %q\nwant %q", v.name, shorten(string(got)), shorten(v.input))
		}
	}
}

// The test compressor must reproduce the npm package byte for byte before its
// output is trusted as test input.
func TestLZCompressMatchesVectors(t *testing.T) {
	for _, v := range lzVectors(t) {
		if strings.Contains(v.name, "surrogate") || (strings.HasPrefix(v.name, "fixture") && v.input == "") {
			continue // the stored input is the repaired text, not what was compressed
		}
		if got := lzCompressToBase64(v.input); got != v.lz64 {
			t.Fatalf("%s: compress got %q, want %q", v.name, shorten(got), shorten(v.lz64))
		}
	}
}

func TestDecompressLZStringBase64Errors(t *testing.T) {
	f := func(input string, maxOut int, want error) {
		t.Helper()
		got, err := DecompressLZStringBase64([]byte(input), maxOut)
		if !errors.Is(err, want) {
			t.Fatalf("DecompressLZStringBase64(%q) = %q, %v; want error %v", shorten(input), got, err, want)
		}
	}
	f("", 0, errLZEmpty)
	f("!!!!", 0, errLZInvalidChar)
	f("IYI17S I", 0, errLZInvalidChar)       // a '+' turned into a space
	f("BYUwNmD2AEDukCcw", 0, errLZTruncated) // "hello world" cut short
	f("////////////", 0, errLZBadCode)       // a reference past the dictionary
	f(lzCompressToBase64(strings.Repeat("abc", 4000)), 1000, errOutputLimit)
	f(lzCompressToBase64(strings.Repeat("€", 500)), 1000, errOutputLimit) // 500 units, 1500 bytes
}

func TestDecompressLZStringBase64Limit(t *testing.T) {
	in := []byte(lzCompressToBase64(strings.Repeat("x", 1000)))
	if got, err := DecompressLZStringBase64(in, 1000); err != nil || len(got) != 1000 {
		t.Fatalf("exactly at the limit: len %d, err %v", len(got), err)
	}
	if _, err := DecompressLZStringBase64(in, 999); !errors.Is(err, errOutputLimit) {
		t.Fatalf("one byte over the limit: err %v", err)
	}
}

func FuzzLZStringDecompress(f *testing.F) {
	for _, v := range lzVectors(f) {
		f.Add(v.lz64)
	}
	f.Add("foo")
	f.Add("////")
	const maxOut = 1 << 16
	f.Fuzz(func(t *testing.T, in string) {
		out, err := DecompressLZStringBase64([]byte(in), maxOut)
		if err != nil {
			return
		}
		if len(out) > maxOut {
			t.Fatalf("output of %d bytes passes the limit", len(out))
		}
		if !utf8.Valid(out) {
			t.Fatalf("invalid utf-8 output %q", out)
		}
		// Any well-formed text survives a round trip through the compressor.
		if s := strings.ToValidUTF8(in, "\uFFFD"); len(s) < 4096 {
			back, err := DecompressLZStringBase64([]byte(lzCompressToBase64(s)), 0)
			if err != nil || string(back) != s {
				t.Fatalf("round trip of %q: %q, %v", s, back, err)
			}
		}
	})
}
