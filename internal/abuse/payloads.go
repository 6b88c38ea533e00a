package abuse

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
)

// gzipped compresses what write writes (runs of one byte shrink a
// thousandfold at any level).
func gzipped(write func(w io.Writer)) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	write(zw)
	zw.Close()
	return buf.Bytes()
}

// repeat writes s n times in large chunks.
func repeat(w io.Writer, s string, n int) {
	chunk := []byte(strings.Repeat(s, max(1, (64<<10)/len(s))))
	per := len(chunk) / len(s)
	for n > 0 {
		k := min(n, per)
		w.Write(chunk[:k*len(s)])
		n -= k
	}
}

// bomb writes a capture batch of one event whose property "pad" is n bytes:
// decoded it is n bytes and change, compressed almost nothing.
func bomb(token string, n int) func(w io.Writer) {
	return func(w io.Writer) {
		fmt.Fprintf(w, `{"api_key":%q,"batch":[{"event":"abuse.bomb","properties":{"distinct_id":"bomber","pad":"`, token)
		repeat(w, "a", n)
		io.WriteString(w, `"}}]}`)
	}
}

func text(write func(w io.Writer)) string {
	var b strings.Builder
	write(&b)
	return b.String()
}

func b64(b []byte) []byte { return []byte(base64.StdEncoding.EncodeToString(b)) }

// form is an application/x-www-form-urlencoded body as posthog-js sends it.
func form(data []byte, compression string) []byte {
	b := []byte("data=" + url.QueryEscape(string(data)))
	if compression != "" {
		b = append(b, "&compression="+compression...)
	}
	return b
}

// events writes a capture batch of n tiny events.
func events(token string, n int) func(w io.Writer) {
	return func(w io.Writer) {
		fmt.Fprintf(w, `{"api_key":%q,"batch":[`, token)
		repeat(w, `{"event":"abuse.tiny","properties":{"distinct_id":"tiny"}},`, n-1)
		io.WriteString(w, `{"event":"abuse.tiny","properties":{"distinct_id":"tiny"}}]}`)
	}
}

// wide is a JSON object of n distinct keys.
func wide(n int) []byte {
	b := make([]byte, 0, n*12)
	b = append(b, '{')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `"k`...)
		b = strconv.AppendInt(b, int64(i), 36)
		b = append(b, `":1`...)
	}
	return append(b, '}')
}

// deep is a JSON array nested n levels.
func deep(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// captureEvent is a capture batch of one event with a raw JSON fragment
// spliced into it (e.g. `"properties":{…}`).
func captureEvent(token, event, fragment string) []byte {
	return fmt.Appendf(nil, `{"api_key":%q,"batch":[{"event":%q,%s}]}`, token, event, fragment)
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func writeString(s string) func(w io.Writer) {
	return func(w io.Writer) { io.WriteString(w, s) }
}
