package fakeposthog

import (
	"errors"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

func TestThrottleAnswers429WithRetryAfter(t *testing.T) {
	s := start(t, Options{})
	s.Throttle(2, 3*time.Second)
	for i := 0; i < 2; i++ {
		got := send(t, s, wire{path: "/batch/", body: nodeBatch(t, 1, 2)})
		if got.status != 429 || got.header.Get("Retry-After") != "3" {
			t.Fatalf("answer %d Retry-After %q, want 429 3", got.status, got.header.Get("Retry-After"))
		}
	}
	if got := send(t, s, wire{path: "/batch/", body: nodeBatch(t, 1, 2)}); got.status != 200 || s.Count() != 1 {
		t.Fatalf("after the throttle: %d, count %d", got.status, s.Count())
	}
}

func TestCaptureScriptLeavesOtherRoutesUp(t *testing.T) {
	s := start(t, Options{})
	s.Throttle(1, time.Second)
	if got := send(t, s, wire{path: "/flags/?v=2", body: flagsCall(t, "a")}); got.status != 200 {
		t.Fatalf("flags answered %d while capture was throttled", got.status)
	}
	if got := send(t, s, wire{path: "/batch/", body: nodeBatch(t, 1, 2)}); got.status != 429 {
		t.Fatalf("capture answered %d, want the throttle's 429", got.status)
	}
	s.CaptureScript.Down(fakeads.Fault{Status: 503, Body: "capture down"})
	got := send(t, s, wire{path: "/e/", body: nodeBatch(t, 1, 2)})
	config := send(t, s, wire{method: http.MethodGet, path: "/array/" + token + "/config"})
	if got.status != 503 || got.body != "capture down" || config.status != 200 {
		t.Fatalf("capture %d %q, config %d", got.status, got.body, config.status)
	}
	s.CaptureScript.Up()
	if send(t, s, wire{path: "/batch/", body: nodeBatch(t, 1, 2)}).status != 200 || s.Count() != 1 {
		t.Fatal("capture did not come back")
	}
	if b := s.Batches(); b.Accepted != 1 || b.Refused != 0 {
		t.Fatalf("batches %+v: faults are not refusals of the payload", b)
	}
}

func TestSlowCaptureFault(t *testing.T) {
	s := start(t, Options{})
	s.CaptureScript.Push(fakeads.Fault{Status: 200, Body: `{"status":"Ok"}`, Delay: time.Hour})
	client := &http.Client{Timeout: 200 * time.Millisecond}
	if _, err := client.Post(s.URL()+"/batch/", "application/json", nil); err == nil {
		t.Fatal("a hanging capture answer came back")
	}
	if got := send(t, s, wire{path: "/batch/", body: nodeBatch(t, 1, 2)}); got.status != 200 || s.Count() != 1 {
		t.Fatalf("after the hang: %d count %d", got.status, s.Count())
	}
}

func TestDownAnswersEveryRequestUntilUp(t *testing.T) {
	s := start(t, Options{})
	s.Script.Down(fakeads.Fault{Status: 503, Body: "unavailable"})
	for _, path := range []string{"/batch/", "/flags/?v=2"} {
		if got := send(t, s, wire{path: path, body: nodeBatch(t, 1, 2)}); got.status != 503 {
			t.Fatalf("%s answered %d while down", path, got.status)
		}
	}
	s.Script.Up()
	if got := send(t, s, wire{path: "/batch/", body: nodeBatch(t, 1, 2)}); got.status != 200 || s.Count() != 1 {
		t.Fatalf("after up: %d, count %d", got.status, s.Count())
	}
	reqs := s.Requests()
	if len(reqs) != 3 || reqs[0].Status != 503 || reqs[2].Status != 200 || reqs[2].Path != "/batch/" || len(reqs[2].Body) == 0 {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestRefuseNextRefusesOneBatch(t *testing.T) {
	s := start(t, Options{})
	s.RefuseNext(400, `{"type":"validation_error","detail":"refused"}`)
	got := send(t, s, wire{path: "/batch/", body: nodeBatch(t, 1, 3)})
	if got.status != 400 || got.header.Get("Content-Type") != "application/json" || s.Count() != 0 {
		t.Fatalf("refused batch: %d %s count %d", got.status, got.header.Get("Content-Type"), s.Count())
	}
	if send(t, s, wire{path: "/batch/", body: nodeBatch(t, 1, 3)}).status != 200 || s.Count() != 2 {
		t.Fatal("the same batch sent again was not taken")
	}
}

func TestRefuseEventRefusesItsBatchUntilAccepted(t *testing.T) {
	s := start(t, Options{})
	s.RefuseEvent(uuidN(2), 400, "event 2 refused")
	for i := 0; i < 3; i++ {
		got := send(t, s, wire{path: "/batch/", body: gz(t, nodeBatch(t, 1, 4))})
		if got.status != 400 || got.body != "event 2 refused" {
			t.Fatalf("attempt %d: %d %q", i, got.status, got.body)
		}
	}
	if send(t, s, wire{path: "/batch/", body: nodeBatch(t, 3, 5)}).status != 200 {
		t.Fatal("a batch without the refused event was refused")
	}
	s.AcceptEvent(uuidN(2))
	if send(t, s, wire{path: "/batch/", body: nodeBatch(t, 1, 4)}).status != 200 || s.Count() != 4 || s.Duplicates() != 1 {
		t.Fatalf("replay: count %d dups %d, want 4 1", s.Count(), s.Duplicates())
	}
}

func TestSlowAnswers(t *testing.T) {
	s := start(t, Options{})
	s.Script.Push(fakeads.Fault{Status: 200, Body: `{"status":"Ok"}`, Delay: time.Hour})
	client := &http.Client{Timeout: 200 * time.Millisecond}
	if _, err := client.Post(s.URL()+"/batch/", "application/json", nil); err == nil {
		t.Fatal("a hanging answer came back")
	}
	if got := send(t, s, wire{path: "/batch/", body: nodeBatch(t, 1, 2)}); got.status != 200 {
		t.Fatalf("after the hang: %d", got.status)
	}
}

func TestStopRefusesConnectionsAndRestartKeepsState(t *testing.T) {
	s := start(t, Options{})
	send(t, s, wire{path: "/batch/", body: nodeBatch(t, 1, 2)})
	url := s.URL()
	s.Stop()
	// The helper's pooled connection died with the server; a client must redial.
	http.DefaultClient.CloseIdleConnections()
	fresh := &http.Client{Transport: &http.Transport{}}
	_, err := fresh.Post(url+"/batch/", "application/json", nil)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("while stopped: %v, want connection refused", err)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(); err == nil {
		t.Fatal("restart of a running server succeeded")
	}
	if s.URL() != url || send(t, s, wire{path: "/batch/", body: nodeBatch(t, 1, 3)}).status != 200 || s.Count() != 2 || s.Duplicates() != 1 {
		t.Fatalf("after restart: url %s count %d dups %d", s.URL(), s.Count(), s.Duplicates())
	}
	if s.Received() != 2 {
		t.Fatalf("received %d, want 2", s.Received())
	}
}
