package proxy

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// benchRequests sends request b.N times on one keep-alive in-memory
// connection and checks every answer's status.
func benchRequests(b *testing.B, request string, status int) {
	ln := fasthttputil.NewInmemoryListener()
	ts := newTestServer(b, Options{MaxBodyBytes: 20 << 20}, nil, ln)
	c, err := ts.dial()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	var resp fasthttp.Response
	b.SetBytes(int64(len(request)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := io.WriteString(c, request); err != nil {
			b.Fatal(err)
		}
		if err := resp.Read(br); err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode() != status {
			b.Fatalf("%d %s", resp.StatusCode(), resp.Body())
		}
	}
}

// BenchmarkBodyRead: the edge's cost for a 64 KiB body (streamed, budgeted,
// pooled) on a route that ignores it.
func BenchmarkBodyRead(b *testing.B) {
	benchRequests(b, request("POST", "/healthz", strings.Repeat("a", 64<<10)), 200)
}

// BenchmarkCaptureBatch: a /batch/ of 50 events through the whole router,
// decoder, in-process identity store and in-memory journal.
func BenchmarkCaptureBatch(b *testing.B) {
	var body strings.Builder
	body.WriteString(`{"api_key":"phc_bench","batch":[`)
	for i := 0; i < 50; i++ {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(`{"event":"$pageview","distinct_id":"d` + strconv.Itoa(i) + `","properties":{"$current_url":"https://example.com/a","$lib":"web"}}`)
	}
	body.WriteString(`]}`)
	benchRequests(b, request("POST", "/batch/", body.String(), "Content-Type: application/json"), 200)
}
