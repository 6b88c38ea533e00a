package fakeengine

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden answers in testdata")

// epoch is the fake's clock in tests; tick moves it.
var epoch = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

type fixture struct {
	*Server
	t      *testing.T
	offset atomic.Int64
	ingest string // a secret key with ingest
	admin  string // a secret key with full-admin
}

const (
	testOrigin    = "https://app.example"
	testTokenKey  = "fake-user-token-secret"
	testAdminText = "legacy-admin-key"
)

func start(t *testing.T, opts Options) *fixture {
	t.Helper()
	f := &fixture{t: t}
	opts.Now = func() time.Time { return epoch.Add(time.Duration(f.offset.Load())) }
	opts.UserTokenSecret = testTokenKey
	opts.AdminKey = testAdminText
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	f.Server = s
	f.ingest = s.MintKey(ScopeIngest)
	f.admin = s.MintKey(ScopeFullAdmin)
	return f
}

func (f *fixture) tick(d time.Duration) { f.offset.Add(int64(d)) }

type reply struct {
	status int
	header http.Header
	body   string
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %q", r.status, r.body)
	}
	return m
}

// send makes one request; a non-empty body is sent as application/json
// unless headers set another Content-Type.
func (f *fixture) send(method, path, key, body string, headers ...string) reply {
	f.t.Helper()
	req, err := http.NewRequest(method, f.URL()+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

var uuidText = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

var secretText = regexp.MustCompile(`whsec_[A-Za-z0-9_-]+`)

var loopbackText = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`)

// golden compares body, ids numbered in order of appearance and secrets
// masked, with testdata/name.json; -update rewrites it.
func golden(t *testing.T, name, body string) {
	t.Helper()
	seen := map[string]string{}
	norm := uuidText.ReplaceAllStringFunc(body, func(id string) string {
		if _, found := seen[id]; !found {
			seen[id] = "<id" + strconv.Itoa(len(seen)+1) + ">"
		}
		return seen[id]
	})
	norm = secretText.ReplaceAllString(norm, "whsec_<secret>")
	norm = loopbackText.ReplaceAllString(norm, "http://<fake>")
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(norm), "", "  "); err != nil {
		t.Fatalf("%s: answer is not JSON: %q", name, body)
	}
	pretty.WriteByte('\n')
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v (run with -update)", name, err)
	}
	if pretty.String() != string(want) {
		t.Errorf("%s: answer differs from %s\ngot:\n%s\nwant:\n%s", name, path, pretty.String(), want)
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func itoa(n int) string { return strconv.Itoa(n) }
