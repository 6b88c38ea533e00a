package fakeengine

import (
	"errors"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// TestScriptedFaults: faults come before authentication, one per request,
// then normal answers; Down answers everything until Up.
func TestScriptedFaults(t *testing.T) {
	f := start(t, Options{})
	f.Script.Push(fakeads.Fault{Status: 429, Body: `{"error":"Rate limit exceeded"}`, Header: map[string]string{"Retry-After": "3"}})
	f.Script.FailNext(1, fakeads.Fault{Status: 502})
	if r := f.send("POST", "/v1/events", "", `{}`); r.status != 429 || r.header.Get("Retry-After") != "3" || r.body != `{"error":"Rate limit exceeded"}` {
		t.Fatalf("scripted 429: %d %s %v", r.status, r.body, r.header)
	}
	if r := f.send("POST", "/v1/events", f.ingest, `{"name":"n","userId":"u"}`); r.status != 502 {
		t.Fatalf("scripted 502: %d %s", r.status, r.body)
	}
	if r := f.send("POST", "/v1/events", f.ingest, `{"name":"n","userId":"u"}`); r.status != 202 || len(f.Events()) != 1 {
		t.Fatalf("after the script: %d %s", r.status, r.body)
	}
	f.Script.Down(fakeads.Fault{Status: 503, Body: `{"error":"down"}`})
	for i := 0; i < 3; i++ {
		if r := f.send("GET", "/v1/contacts/me", f.ingest, ""); r.status != 503 {
			t.Fatalf("down: %d", r.status)
		}
	}
	f.Script.Up()
	if r := f.send("GET", "/v1/contacts/me", f.ingest, ""); r.status != 200 {
		t.Fatalf("up: %d", r.status)
	}
	reqs := f.Requests()
	if len(reqs) != 7 || reqs[0].Status != 429 || reqs[1].Status != 502 || reqs[2].Status != 202 || f.Received() != 7 {
		t.Fatalf("recorded %d requests, received %d: %+v", len(reqs), f.Received(), reqs[:min(3, len(reqs))])
	}
}

// TestSlowEngine: with latency set, a client with a shorter timeout gives
// up; without it, answers come at once again.
func TestSlowEngine(t *testing.T) {
	f := start(t, Options{})
	f.Script.SetLatency(300 * time.Millisecond)
	client := &http.Client{Timeout: 50 * time.Millisecond}
	req, _ := http.NewRequest("GET", f.URL()+"/v1/health", nil)
	if _, err := client.Do(req); err == nil {
		t.Fatal("a slow engine answered within the client's timeout")
	}
	f.Script.SetLatency(0)
	if r := f.send("GET", "/v1/health", "", ""); r.status != 200 {
		t.Fatalf("%d", r.status)
	}
}

// TestStopRestart: Stop refuses connections, Restart listens on the same
// port with the state kept.
func TestStopRestart(t *testing.T) {
	f := start(t, Options{})
	f.send("PUT", "/v1/contacts", f.ingest, `{"userId":"u_keep"}`)
	f.Stop()
	_, err := http.Get(f.URL() + "/v1/health")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("stopped: %v, want connection refused", err)
	}
	if err := f.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := f.Restart(); err == nil {
		t.Fatal("restart of a running fake")
	}
	r := f.send("GET", "/v1/contacts/find?userId=u_keep", f.ingest, "")
	if r.status != 200 || len(r.json(t)["contacts"].([]any)) != 1 {
		t.Fatalf("after restart: %d %s", r.status, r.body)
	}
}

// TestEmailsRateLimit: 30 a minute per key by default, 429 with
// Retry-After and the X-RateLimit headers, free again a minute later.
func TestEmailsRateLimit(t *testing.T) {
	f := start(t, Options{})
	other := f.MintKey(ScopeIngest)
	mail := func(key string) reply {
		return f.send("POST", "/v1/emails", key, `{"to":"a@b.co","template":"welcome"}`)
	}
	for i := 0; i < 30; i++ {
		if r := mail(f.ingest); r.status != 202 || r.header.Get("X-RateLimit-Remaining") != itoa(29-i) {
			t.Fatalf("email %d: %d %s remaining %q", i, r.status, r.body, r.header.Get("X-RateLimit-Remaining"))
		}
		f.tick(time.Second)
	}
	r := mail(f.ingest)
	if r.status != 429 || r.body != `{"error":"Rate limit exceeded"}` || r.header.Get("Retry-After") != "30" || r.header.Get("X-RateLimit-Limit") != "30" {
		t.Fatalf("31st: %d %s %v", r.status, r.body, r.header)
	}
	if r := mail(other); r.status != 202 {
		t.Fatalf("another key: %d", r.status)
	}
	f.tick(31 * time.Second)
	if r := mail(f.ingest); r.status != 202 {
		t.Fatalf("a minute on: %d %s", r.status, r.body)
	}
	if n := len(f.Emails()); n != 32 {
		t.Fatalf("%d emails accepted, want 32", n)
	}
}

// TestNoRequestLog keeps counters but no requests.
func TestNoRequestLog(t *testing.T) {
	f := start(t, Options{NoRequestLog: true})
	f.send("POST", "/v1/events", f.ingest, `{"name":"n","userId":"u"}`)
	f.send("GET", "/nowhere", "", "")
	if f.Requests() != nil || f.Received() != 2 || f.ReceivedOn("POST /v1/events") != 1 || f.ReceivedOn("GET /v1/lists") != 0 {
		t.Fatalf("requests %v, received %d, on events %d", f.Requests(), f.Received(), f.ReceivedOn("POST /v1/events"))
	}
}
