package proxy

import (
	"bytes"
	"compress/gzip"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp/fasthttputil"
)

// documentedStatus lists every status docs/operations.md and the API docs
// name; anything else from the router is a bug.
var documentedStatus = map[int]bool{
	200: true, 201: true, 202: true, 204: true,
	400: true, 401: true, 403: true, 404: true, 408: true, 413: true, 429: true, 431: true, 503: true,
}

// FuzzHTTP sends arbitrary methods, paths, queries, headers and bodies
// through the real router over an in-memory connection: no panic, a
// documented status, and a reason in the body of every 4xx and 5xx.
func FuzzHTTP(f *testing.F) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(captureBody))
	zw.Close()
	seeds := []struct{ method, path, query, headers, body string }{
		{"POST", "/batch/", "", "Content-Type: application/json", captureBody},
		{"POST", "/i/v0/e/", "compression=gzip-js", "Content-Type: text/plain", gz.String()},
		{"POST", "/e", "ip=1&_=1", "Content-Type: application/x-www-form-urlencoded", "data=eyJldmVudCI6ImUifQ%3D%3D"},
		{"GET", "/e/", "data=" + "eyJldmVudCI6ImUiLCJkaXN0aW5jdF9pZCI6ImQiLCJ0b2tlbiI6InBoY194In0=", "", ""},
		{"GET", "/array/config", "", "", ""},
		{"GET", "/array/phc_x/config.js", "", "", ""},
		{"GET", "/array//config", "", "", ""},
		{"POST", "/v1/events", "", "Content-Type: application/json\nAuthorization: Bearer " + testAdminKey, `{"name":"e","userId":"u1"}`},
		{"PUT", "/v1/contacts", "", "Content-Type: application/json\nAuthorization: Bearer " + testAdminKey, `{"email":"a@b.co","properties":{"x":1}}`},
		{"DELETE", "/v1/contacts", "", "Content-Type: application/json\nAuthorization: Bearer " + testAdminKey, `{"userId":"u1"}`},
		{"GET", "/v1/contacts/find", "email=a@b.co", "Authorization: Bearer " + testAdminKey, ""},
		{"POST", "/v1/admin/api-keys", "", "Content-Type: application/json\nAuthorization: Bearer " + testAdminKey, `{"name":"k","scopes":["ingest"]}`},
		{"OPTIONS", "/v1/events", "", "Origin: https://a.example\nAccess-Control-Request-Headers: content-type", ""},
		{"GET", "/readyz", "", "Authorization: Bearer " + testAdminKey, ""},
		{"HEAD", "/healthz", "", "", ""},
		{"POST", "/decide", "v=3", "", "{}"},
		{"POST", "/s/", "", "Content-Encoding: gzip", "\x1f\x8b\x08garbage"},
		{"BREW", "/%zz", "a=%", "X-Forwarded-For: ,,,", "\x00\xff"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.headers, []byte(s.body))
	}
	ln := fasthttputil.NewInmemoryListener()
	ts := newTestServer(f, Options{HeaderTimeout: time.Second, ReadTimeout: time.Second}, nil, ln)
	f.Fuzz(func(t *testing.T, method, path, query, headers string, body []byte) {
		raw := fuzzRequest(method, path, query, headers, body)
		c, err := ts.dial()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		go io.WriteString(c, raw)
		r, err := readAnswer(c, 10*time.Second, method == "HEAD")
		if err != nil {
			t.Fatalf("no answer to %q: %v", raw, err)
		}
		if !documentedStatus[r.status] {
			t.Fatalf("%q answered %d %s", raw, r.status, r.body)
		}
		if r.status >= 400 && method != "HEAD" && !hasReason(r.body) {
			t.Fatalf("%q answered %d without a reason: %q", raw, r.status, r.body)
		}
		if n := ts.srv.metrics.panics.Get(); n != 0 {
			t.Fatalf("%q: %v panics", raw, n)
		}
	})
}

// fuzzRequest builds one HTTP/1.1 request: CR and LF cannot split the
// request line or a header, and the body's length is declared truly (a
// Content-Length lie or a chunked body is covered by the body tests).
func fuzzRequest(method, path, query, headers string, body []byte) string {
	line := strings.NewReplacer("\r", "", "\n", "")
	var b strings.Builder
	b.WriteString(line.Replace(method) + " " + line.Replace(path))
	if query != "" {
		b.WriteString("?" + line.Replace(query))
	}
	b.WriteString(" HTTP/1.1\r\nHost: fuzz\r\n")
	for _, h := range strings.Split(headers, "\n") {
		h = strings.TrimRight(h, "\r")
		name, _, _ := strings.Cut(h, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "", "content-length", "transfer-encoding", "host", "expect":
			continue
		}
		b.WriteString(line.Replace(h) + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	b.Write(body)
	return b.String()
}

// hasReason reports an error body that says why: {"error":"…"}, the native
// validation envelope {"error":{"message":…}} or capture's {"detail":"…"}.
func hasReason(body string) bool {
	return strings.Contains(body, `"error":"`) || strings.Contains(body, `"message":"`) || strings.Contains(body, `"detail":"`)
}
