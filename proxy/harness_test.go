package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/ingest"
)

const testAdminKey = "test-admin-key-0123456789"

// memJournal keeps appended payloads in memory. fail, when set, refuses
// every append as a full disk would; panicOn makes an append whose payload
// holds it panic, as a bug in the durable path would.
type memJournal struct {
	mu      sync.Mutex
	entries [][]byte
	fail    error
	panicOn string
	// stall, when set, holds every append until it is closed, as a stalled
	// fsync would; stalled receives one value as each held append starts.
	stall, stalled chan struct{}
}

var _ ingest.Journal = (*memJournal)(nil)

func (j *memJournal) Append(_ context.Context, payload []byte) error {
	if j.stall != nil {
		j.stalled <- struct{}{}
		<-j.stall
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.panicOn != "" && bytes.Contains(payload, []byte(j.panicOn)) {
		panic("journal: " + j.panicOn)
	}
	if j.fail != nil {
		return j.fail
	}
	j.entries = append(j.entries, bytes.Clone(payload))
	return nil
}

func (j *memJournal) count() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.entries)
}

// testServer is a Server over a real Ingestor (in-process identity store,
// in-memory journal) serving on a loopback or in-memory listener.
type testServer struct {
	t       testing.TB
	srv     *Server
	set     *metrics.Set
	journal *memJournal
	ln      net.Listener
	dial    func() (net.Conn, error)
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newTestServer fills o's Ingest, Auth, Metrics and Logger and serves it on
// ln, or on a fresh loopback port when ln is nil.
func newTestServer(t testing.TB, o Options, journal *memJournal, ln net.Listener) *testServer {
	t.Helper()
	if journal == nil {
		journal = &memJournal{}
	}
	store := identity.NewMemory()
	ingest := ingest.New(store, journal, ingest.Options{IdempotencyWindow: time.Hour})
	t.Cleanup(ingest.Close)
	o.Ingest = ingest
	o.Auth = NewAuthenticator(testAdminKey, ingest)
	o.Metrics = metrics.NewSet()
	if o.Logger == nil {
		o.Logger = quietLogger()
	}
	if o.AdminAPIKey == "" {
		o.AdminAPIKey = testAdminKey
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 1 << 20
	}
	ts := &testServer{t: t, srv: New(o), set: o.Metrics, journal: journal, ln: ln}
	if ln == nil {
		var err error
		if ts.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	addr := ts.ln.Addr().String()
	ts.dial = func() (net.Conn, error) { return net.Dial("tcp", addr) }
	if mem, ok := ts.ln.(interface{ Dial() (net.Conn, error) }); ok {
		ts.dial = mem.Dial
	}
	done := make(chan error, 1)
	go func() { done <- ts.srv.Serve(ts.ln) }()
	t.Cleanup(func() {
		// Closing the listener first also stops a Serve that had not yet
		// registered it when Shutdown ran.
		ts.ln.Close()
		ts.srv.Shutdown()
		<-done
	})
	return ts
}

// reply is one parsed answer.
type reply struct {
	status int
	header map[string]string
	body   string
}

// conn opens a client connection, closed when the test ends.
func (ts *testServer) conn() net.Conn {
	ts.t.Helper()
	c, err := ts.dial()
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(func() { c.Close() })
	return c
}

// raw writes a request as bytes on a new connection and reads the answer.
func (ts *testServer) raw(request string) reply {
	ts.t.Helper()
	c := ts.conn()
	if _, err := io.WriteString(c, request); err != nil {
		ts.t.Fatal(err)
	}
	r, err := readReply(c, 10*time.Second)
	if err != nil {
		ts.t.Fatalf("reading the answer to %.80q: %v", request, err)
	}
	return r
}

// do sends method path with headers ("Name: value") and body, Content-Length
// set from the body.
func (ts *testServer) do(method, path, body string, headers ...string) reply {
	ts.t.Helper()
	return ts.raw(request(method, path, body, headers...))
}

func request(method, path, body string, headers ...string) string {
	var b strings.Builder
	b.WriteString(method + " " + path + " HTTP/1.1\r\nHost: test\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	b.WriteString(body)
	return b.String()
}

// readReply reads one answer from c within timeout.
func readReply(c net.Conn, timeout time.Duration) (reply, error) {
	return readAnswer(c, timeout, false)
}

// readAnswer reads one answer, without a body when it answers a HEAD.
func readAnswer(c net.Conn, timeout time.Duration, head bool) (reply, error) {
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return reply{}, err
	}
	var resp fasthttp.Response
	resp.SkipBody = head
	if err := resp.Read(bufio.NewReader(c)); err != nil {
		return reply{}, err
	}
	r := reply{status: resp.StatusCode(), header: map[string]string{}, body: string(resp.Body())}
	for k, v := range resp.Header.All() {
		r.header[string(k)] = string(v)
	}
	return r, nil
}

// metric reads a series of the server's own metrics set.
func (ts *testServer) metric(name string) float64 {
	ts.t.Helper()
	var b bytes.Buffer
	ts.set.WritePrometheus(&b)
	for _, line := range strings.Split(b.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				ts.t.Fatal(err)
			}
			return f
		}
	}
	return 0
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// isTimeout reports a read that ended on its deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
