package proxy

import (
	"io"
	"sync"
	"testing"
	"time"
)

// TestNoAnswerBeforeDurable: while the journal append of a request is held
// (the spool's fsync stalled), the request gets no answer, even after the
// server has answered another request; it is answered 2xx only once the
// append has returned. README.md § "Failure behaviour": every acknowledged
// record is fsynced before its 2xx.
func TestNoAnswerBeforeDurable(t *testing.T) {
	cases := []struct{ name, request string }{
		{"native event", request("POST", "/v1/events", `{"name":"held","userId":"u_held"}`,
			"Authorization: Bearer "+testAdminKey, "Content-Type: application/json")},
		{"capture", request("POST", "/batch/", `{"api_key":"phc_x","batch":[{"event":"held","distinct_id":"d-held"}]}`,
			"Content-Type: application/json")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			journal := &memJournal{stall: make(chan struct{}), stalled: make(chan struct{}, 1)}
			ts := newTestServer(t, Options{}, journal, nil)
			release := sync.OnceFunc(func() { close(journal.stall) })
			t.Cleanup(release) // before the server's Shutdown waits for the held handler
			c := ts.conn()
			if _, err := io.WriteString(c, tc.request); err != nil {
				t.Fatal(err)
			}
			answered := make(chan reply, 1)
			go func() {
				r, err := readReply(c, 30*time.Second)
				if err != nil {
					t.Errorf("reading the held answer: %v", err)
				}
				answered <- r
			}()
			<-journal.stalled
			// A round trip through the server gives a premature answer the
			// time to arrive.
			if r := ts.do("GET", "/healthz", ""); r.status != 200 {
				t.Fatalf("/healthz while an append is held: %d", r.status)
			}
			select {
			case r := <-answered:
				t.Fatalf("answered %d %s while its append was held", r.status, r.body)
			default:
			}
			release()
			r := <-answered
			if r.status/100 != 2 || journal.count() != 1 {
				t.Fatalf("after the append returned: %d %s with %d entries, want 2xx and 1", r.status, r.body, journal.count())
			}
		})
	}
}
