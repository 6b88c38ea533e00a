package abuse

import (
	"strings"
	"testing"

	"github.com/hogsend/hogsend-proxy/translate/posthog"
)

// TestLZ64RoundTrip: the proxy's lz-string decoder reads back what LZ64
// wrote, for text, unicode and a long run (the bombs' shape).
func TestLZ64RoundTrip(t *testing.T) {
	f := func(in string) {
		t.Helper()
		out, err := posthog.DecompressLZStringBase64([]byte(LZ64(in)), 64<<20)
		if err != nil || string(out) != in {
			t.Fatalf("round trip of %.40q: %v, got %.40q", in, err, out)
		}
	}
	f("a")
	f(`{"api_key":"phc_x","batch":[{"event":"x","properties":{"distinct_id":"d"}}]}`)
	f("héllo wörld ☃ 😀 tobeornottobeortobeornot")
	f(strings.Repeat("a", 1<<20))
	f(strings.Repeat(`{"event":"e","properties":{"distinct_id":"d"}},`, 5000))
}

// TestLZ64Vectors: the npm package lz-string 1.5.0's own output.
func TestLZ64Vectors(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := LZ64(in); got != want {
			t.Fatalf("LZ64(%q) = %q, want %q", in, got, want)
		}
	}
	f("", "Q===")
	f("a", "IZA=")
	f("hello world", "BYUwNmD2AEDukCcwBMg=")
	f("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "IY18ZJA=")
	f("abababababababababa", "IYI17SPI")
	f("ÿĀþāÿĀ", "P+AEAH+ICApA")
	f("😀😃😄😁😆😅🤣😂🙂🙃 🤓 💻 Writing code", "rwbgA96YD3kED3kQD3kGB7xCge4Pg3DEu8QQHvEEJ7xBhPYAJVBkXaOEG6dogdQCcBLAFwYDsBzIgYwHsATAKZA=")
}
