package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/sinks/clickhouse"
)

type eventLoad struct {
	addr     string
	key      string
	conns    int
	contacts int
}

type loadResult struct {
	acked, errors int64
	firstErrors   []string // the first few failures, as answered
	elapsed       time.Duration
	latencies     []time.Duration
	pct           map[string]time.Duration // from wrk's summary
}

func (r *loadResult) p(q float64) time.Duration {
	if r.pct != nil {
		return r.pct[strconv.Itoa(int(q*100))]
	}
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(q * float64(len(r.latencies)-1))
	return r.latencies[i].Round(10 * time.Microsecond)
}

// driveHTTP runs conns workers, each on its own keep-alive connection,
// until d passes or next reports there is nothing left to send. next fills
// req for worker w's n-th request and returns how many events it carries
// and the status that acknowledges them.
func driveHTTP(addr string, conns int, d time.Duration,
	next func(w, n int, req *fasthttp.Request) (events int64, okStatus int, more bool)) *loadResult {
	client := &fasthttp.HostClient{Addr: addr, MaxConns: conns, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	var acked, errs atomic.Int64
	var mu sync.Mutex
	var all []time.Duration
	var firstErrs []string
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			lat := make([]time.Duration, 0, 1<<14)
			for n := 0; time.Now().Before(deadline); n++ {
				req.Reset()
				events, okStatus, more := next(w, n, req)
				if !more {
					break
				}
				t0 := time.Now()
				err := client.Do(req, resp)
				lat = append(lat, time.Since(t0))
				if err != nil || resp.StatusCode() != okStatus {
					if errs.Add(1) <= 3 {
						what := fmt.Sprint(err)
						if err == nil {
							what = fmt.Sprintf("%d %s", resp.StatusCode(), bytes.TrimSpace(resp.Body()))
						}
						mu.Lock()
						firstErrs = append(firstErrs, what)
						mu.Unlock()
					}
					continue
				}
				acked.Add(events)
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	res := &loadResult{acked: acked.Load(), errors: errs.Load(), firstErrors: firstErrs, elapsed: time.Since(start), latencies: all}
	sort.Slice(res.latencies, func(i, j int) bool { return res.latencies[i] < res.latencies[j] })
	return res
}

// run drives POST /v1/events for d with Go's fasthttp client.
func (l *eventLoad) run(d time.Duration) (*loadResult, error) {
	auth := "Bearer " + l.key
	rngs := make([]*rand.Rand, l.conns)
	bodies := make([][]byte, l.conns)
	for w := range rngs {
		rngs[w] = rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
		bodies[w] = make([]byte, 0, 256)
	}
	return driveHTTP(l.addr, l.conns, d, func(w, n int, req *fasthttp.Request) (int64, int, bool) {
		body := append(bodies[w][:0], `{"name":"page.viewed","email":"user`...)
		body = strconv.AppendInt(body, int64(rngs[w].IntN(l.contacts)), 10)
		body = append(body, `@bench.example","eventProperties":{"path":"/pricing","n":`...)
		body = strconv.AppendInt(body, int64(n), 10)
		bodies[w] = append(body, `}}`...)
		l.eventRequest(req, auth, bodies[w])
		return 1, fasthttp.StatusAccepted, true
	}), nil
}

// eventRequest makes req a POST /v1/events of body.
func (l *eventLoad) eventRequest(req *fasthttp.Request, auth string, body []byte) {
	req.SetRequestURI("http://" + l.addr + "/v1/events")
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.Header.Set("Authorization", auth)
	req.SetBodyRaw(body)
}

func waitReady(base string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		status, _, err := fasthttp.Get(nil, base+"/readyz")
		if err == nil && status == fasthttp.StatusOK {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("hogsend-proxy not ready within %s", timeout)
}

func mintKey(base, admin string) (string, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(base + "/v1/admin/api-keys")
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.Header.Set("Authorization", "Bearer "+admin)
	req.SetBodyString(`{"name":"bench","scopes":["ingest"]}`)
	if err := fasthttp.Do(req, resp); err != nil {
		return "", fmt.Errorf("mint key: %w", err)
	}
	if resp.StatusCode() != fasthttp.StatusCreated {
		return "", fmt.Errorf("mint key: %d %s", resp.StatusCode(), resp.Body())
	}
	return gjson.GetBytes(resp.Body(), "key").String(), nil
}

// waitRows polls user_events until it holds want rows matching where (FINAL,
// so a replayed insert would not hide a loss) or the timeout passes.
func waitRows(ctx context.Context, url, where string, want int64, timeout time.Duration) (int64, error) {
	b, err := clickhouse.OpenServer(ctx, url)
	if err != nil {
		return 0, err
	}
	defer b.Close()
	deadline := time.Now().Add(timeout)
	for {
		rows, err := b.Query(ctx, "SELECT count() FROM hogsend.user_events FINAL WHERE "+where)
		if err != nil {
			return 0, fmt.Errorf("count user_events: %w", err)
		}
		n, _ := strconv.ParseInt(rows[0][0], 10, 64)
		if n >= want || time.Now().After(deadline) {
			return n, nil
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// acceptedEvents reads the server's count of stored events of api ("native"
// or "posthog") once it stops moving: requests in flight when the generator
// stopped still finish.
func acceptedEvents(base, api string) (int64, error) {
	read := func() (int64, error) {
		return metricValue(base, `hogsend_events_accepted_total{api="`+api+`"}`)
	}
	n, err := read()
	for err == nil {
		time.Sleep(300 * time.Millisecond)
		var again int64
		if again, err = read(); err == nil && again == n {
			return n, nil
		}
		n = again
	}
	return 0, err
}

// metricValue reads one integer sample of /metrics by its full name.
func metricValue(base, name string) (int64, error) {
	status, body, err := fasthttp.Get(nil, base+"/metrics")
	if err != nil || status != fasthttp.StatusOK {
		return 0, fmt.Errorf("read /metrics: %d %v", status, err)
	}
	// A sample line starts with the name; the # HELP and # TYPE lines name
	// the family too.
	for line := range bytes.SplitSeq(body, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte(name+" ")); ok {
			return strconv.ParseInt(string(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("/metrics lacks %s", name)
}

// refusedAnswers lists the proxy's own count of its answers other than 2xx,
// by route and status (hogsend_http_requests_total), for a run wrk saw
// errors in.
func refusedAnswers(base string) string {
	status, body, err := fasthttp.Get(nil, base+"/metrics")
	if err != nil || status != fasthttp.StatusOK {
		return fmt.Sprintf("read /metrics: %d %v", status, err)
	}
	const name = "hogsend_http_requests_total{"
	var out []string
	for _, line := range strings.Split(string(body), "\n") {
		labels, ok := strings.CutPrefix(line, name)
		if !ok || strings.Contains(labels, `status="2`) {
			continue
		}
		out = append(out, strings.Replace(labels, "} ", " × ", 1))
	}
	if len(out) == 0 {
		return "none (the errors were on wrk's side: timeouts or socket errors)"
	}
	return strings.Join(out, ", ")
}
