package abuse

import (
	"errors"
	"io"
	"os"
	"testing"
)

// TestExpectProblem: the judge of every answer the attacks get.
func TestExpectProblem(t *testing.T) {
	json := func(status int, body string) Answer {
		return Answer{Status: status, Body: []byte(body), Header: map[string]string{"Content-Type": "application/json"}}
	}
	f := func(a Answer, e Expect, wantOK bool) {
		t.Helper()
		if p := e.problem(a); (p == "") != wantOK {
			t.Fatalf("problem(%+v, %+v) = %q, want ok=%v", a, e, p, wantOK)
		}
	}
	large := Expect{Statuses: []int{413, 429}}
	f(json(413, `{"error":"request body too large"}`), large, true)
	f(json(413, `{"type":"validation_error","code":"too_large","detail":"payload too large"}`), large, true)
	f(json(400, `{"success":false,"error":{"name":"ZodError","message":"[…]"}}`), Expect{Statuses: []int{400}}, true)
	f(json(413, `{"error":""}`), large, false)
	f(json(413, `{}`), large, false)
	f(json(413, `not json`), large, false)
	f(json(413, `{"type":"validation_error","code":"too_large"}`), large, false)
	f(Answer{Status: 413, Body: []byte("Request Entity Too Large"), Header: map[string]string{"Content-Type": "text/plain"}}, large, true)
	f(Answer{Status: 413, Header: map[string]string{}}, large, false)
	f(json(429, `{"error":"too many bytes in flight"}`), large, false) // no Retry-After
	a := json(429, `{"error":"too many bytes in flight"}`)
	a.Header["Retry-After"] = "1"
	f(a, large, true)
	f(json(503, `{"error":"identity store unavailable"}`), large, false)
	f(json(200, `{"status":"Ok"}`), large, false)
	f(Answer{Status: 405, HeadRequest: true, Header: map[string]string{}}, Expect{Statuses: []int{405}}, true)
	f(Answer{Closed: true, Err: io.EOF}, slowClient, true)
	f(Answer{Closed: true, Err: io.EOF}, large, false)
	f(Answer{Stuck: true, Err: os.ErrDeadlineExceeded}, slowClient, false)
	f(Answer{Err: errors.New("dial: refused")}, slowClient, false)
}
