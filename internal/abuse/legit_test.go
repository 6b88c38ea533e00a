package abuse

import (
	"cmp"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// sent is one legitimate request and what it got.
type sent struct {
	ids        []string // event ids it carried: native seq numbers, capture uuids
	status     int      // 0: no answer
	err        error
	retryAfter string
	body       string
}

// legit is the legitimate client that keeps sending while the attacks run:
// native events one a request, capture batches of five, from 127.0.0.1.
type legit struct {
	base, key string
	client    *http.Client
	halt      chan struct{}
	halted    sync.Once
	wg        sync.WaitGroup
	native    []sent
	capture   []sent
}

func startLegit(base, key string) *legit {
	l := &legit{base: base, key: key, halt: make(chan struct{}),
		client: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2, DisableCompression: true}}}
	l.wg.Add(2)
	go l.loop(func(i int) { l.native = append(l.native, l.sendNative(i)) })
	go l.loop(func(i int) { l.capture = append(l.capture, l.sendCapture(i)) })
	return l
}

func (l *legit) loop(send func(i int)) {
	defer l.wg.Done()
	for i := 0; ; i++ {
		select {
		case <-l.halt:
			return
		case <-time.After(20 * time.Millisecond):
		}
		send(i)
	}
}

// stop ends the client once its requests in flight are answered.
func (l *legit) stop() {
	l.halted.Do(func() {
		close(l.halt)
		l.wg.Wait()
		l.client.CloseIdleConnections()
	})
}

func (l *legit) sendNative(i int) sent {
	body := fmt.Sprintf(`{"name":"legit.native","userId":"legit-%d","eventProperties":{"seq":%d}}`, i%50, i)
	s := l.post("/v1/events", body, l.key)
	s.ids = []string{fmt.Sprint(i)}
	if s.status == 202 && !strings.Contains(s.body, `"stored":true`) {
		s.err = fmt.Errorf("202 without stored:true: %s", s.body)
	}
	return s
}

func (l *legit) sendCapture(i int) sent {
	var events []string
	var ids []string
	for k := range 5 {
		id := uuid.NewString()
		ids = append(ids, id)
		events = append(events, fmt.Sprintf(`{"event":"legit.capture","uuid":%q,"properties":{"distinct_id":"legit-visitor-%d","$lib":"web","k":%d}}`, id, i%50, k))
	}
	s := l.post("/batch/", fmt.Sprintf(`{"api_key":%q,"batch":[%s]}`, publicToken, strings.Join(events, ",")), "")
	s.ids = ids
	return s
}

func (l *legit) post(path, body, bearer string) sent {
	req, _ := http.NewRequest("POST", l.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return sent{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return sent{err: fmt.Errorf("read answer: %w", err)}
	}
	return sent{status: resp.StatusCode, body: string(b), retryAfter: resp.Header.Get("Retry-After")}
}

// acked reports whether s was acknowledged (okStatus).
func (s sent) acked(okStatus int) bool { return s.status == okStatus && s.err == nil }

// reportLegit logs the legitimate client's answers and fails the test for
// any that was neither an acknowledgement nor a 429 with Retry-After (the
// byte budget is full: retry), each kind once with its count.
func reportLegit(t *testing.T, what string, all []sent, okStatus int) {
	t.Helper()
	counts := map[string]int{}
	problems := newResult(what)
	var firstErr error
	for _, s := range all {
		if s.err != nil {
			counts["error"]++
			firstErr = cmp.Or(firstErr, s.err)
			continue
		}
		counts[fmt.Sprint(s.status)]++
		a := Answer{Status: s.status, Body: []byte(s.body), Header: map[string]string{"Retry-After": s.retryAfter, "Content-Type": "application/json"}}
		problems.record("legitimate "+what+" request", a, Expect{Statuses: []int{okStatus, 429}})
	}
	t.Logf("legitimate %s answers: %v", what, counts)
	if n := counts["error"]; n > 0 {
		problems.fail("%d legitimate %s requests failed (first: %v)", n, what, firstErr)
	}
	reportProblems(t, problems.Problems())
}
