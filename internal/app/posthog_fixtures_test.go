package app

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// TestPostHogFixturesEveryEncoding sends each payload fixture through the
// running proxy in every wire encoding SDKs use and checks what was stored.
func TestPostHogFixturesEveryEncoding(t *testing.T) {
	cfg, _, _ := serverConfig(t)
	h := startHarness(t, cfg)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "fixtures", "posthog", name))
		if err != nil {
			testenv.Unavailable(t, "fixture: %v", err)
		}
		return b
	}
	gz := func(b []byte) string {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.String()
	}
	encodings := []struct {
		name string
		send func(path string, body []byte) response
	}{
		{"json", func(p string, b []byte) response { return h.do("POST", p, "", "application/json", string(b)) }},
		{"gzip", func(p string, b []byte) response { return h.do("POST", p, "", "text/plain", gz(b)) }},
		{"gzip-header", func(p string, b []byte) response {
			return h.do("POST", p, "", "application/json", gz(b), "Content-Encoding", "gzip")
		}},
		{"form-base64", func(p string, b []byte) response {
			return h.do("POST", p+"?compression=base64", "", "application/x-www-form-urlencoded",
				"data="+url.QueryEscape(base64.StdEncoding.EncodeToString(b)))
		}},
		{"get-data", func(p string, b []byte) response {
			return h.do("GET", p+"?data="+url.QueryEscape(base64.StdEncoding.EncodeToString(b)), "", "", "")
		}},
	}
	fixtures := []struct {
		file, path string
		events     map[string]int // event name → properties it must have
	}{
		{"single_event_payload.json", "/i/v0/e/", map[string]int{"$autocapture": 68}},
		{"batch_events_payload.json", "/batch/", map[string]int{"$pageview": 64, "$pageleave": 72}},
		{"single_engage_event_payload.json", "/engage/", map[string]int{"$identify": 2}},
	}
	for _, f := range fixtures {
		body := read(f.file)
		for _, enc := range encodings {
			if r := enc.send(f.path, body); r.status != 200 || string(r.body) != `{"status":"Ok"}` {
				t.Fatalf("%s as %s: %d %s", f.file, enc.name, r.status, r.body)
			}
		}
		for name, props := range f.events {
			rows := h.rows("SELECT properties FROM user_events WHERE source = 'posthog' AND event = '" + name + "'")
			if len(rows) != len(encodings) {
				t.Fatalf("%s: %d %s events stored, want one per encoding (%d)", f.file, len(rows), name, len(encodings))
			}
			for _, r := range rows {
				var m map[string]any
				if err := json.Unmarshal([]byte(r[0]), &m); err != nil || len(m) != props {
					t.Fatalf("%s: %s stored with %d properties, want %d", f.file, name, len(m), props)
				}
			}
		}
	}
	// The engage identify set the person's properties on one contact.
	cs := find(t, h, "userId=known_user@example.com")
	if len(cs) != 1 || cs[0]["properties"].(map[string]any)["foo"] != "bar" || cs[0]["properties"].(map[string]any)["baz"] != float64(42) {
		t.Fatalf("engage contact = %v", cs)
	}
}
