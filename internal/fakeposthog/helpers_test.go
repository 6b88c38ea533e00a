package fakeposthog

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden answers in testdata")

const token = DefaultToken

func start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// wire is one request as a client sends it.
type wire struct {
	method string
	path   string // with the query
	body   []byte
	header map[string]string
}

type reply struct {
	status int
	header http.Header
	body   string
}

func send(t testing.TB, s *Server, w wire) reply {
	t.Helper()
	if w.method == "" {
		w.method = http.MethodPost
	}
	req, err := http.NewRequest(w.method, s.URL()+w.path, bytes.NewReader(w.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range w.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func form(b []byte) []byte { return []byte("data=" + url.QueryEscape(b64(b))) }

func jsonOf(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// uuidN is a fixed valid UUIDv7-shaped id numbered n.
func uuidN(n int) string { return fmt.Sprintf("01900000-0000-7000-8000-%012d", n) }

// nodeEvent is an event as posthog-node sends it.
func nodeEvent(n int) map[string]any {
	return map[string]any{"event": "signed_up", "uuid": uuidN(n), "distinct_id": fmt.Sprintf("user-%d", n),
		"timestamp":  "2026-12-06T10:00:00.123Z",
		"properties": map[string]any{"$lib": "posthog-node", "$lib_version": "5.70.0", "plan": "pro", "$ip": "203.0.113.9"}}
}

// nodeBatch is a posthog-node /batch/ body of events numbered from..to-1.
func nodeBatch(t testing.TB, from, to int) []byte {
	t.Helper()
	events := []any{}
	for i := from; i < to; i++ {
		events = append(events, nodeEvent(i))
	}
	return jsonOf(t, map[string]any{"api_key": token, "batch": events, "sent_at": "2026-12-06T10:00:01Z"})
}

// golden compares a JSON or text answer with testdata/name; -update rewrites it.
func golden(t *testing.T, name, body string) {
	t.Helper()
	text := body
	if strings.HasSuffix(name, ".json") {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, []byte(body), "", "  "); err != nil {
			t.Fatalf("%s: answer is not JSON: %q", name, body)
		}
		text = pretty.String() + "\n"
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v (run with -update)", name, err)
	}
	if text != string(want) {
		t.Errorf("%s: answer differs from %s\ngot:\n%s\nwant:\n%s", name, path, text, want)
	}
}
