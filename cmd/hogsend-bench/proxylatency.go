package main

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// routeLatency is the proxy's own request-duration histogram of one route
// (hogsend_http_request_duration_seconds), read from its /metrics: the
// time from the handler's start to its answer, without the connection's
// wait to be read, the answer's write or the load generator's side. Beside
// the client's latency it says where a tail comes from.
type routeLatency struct {
	bounds []float64 // seconds, ascending; +Inf last
	counts []int64   // cumulative, one per bound
}

// readRouteLatency reads route's histogram from the proxy at base.
func readRouteLatency(base, route string) (routeLatency, error) {
	status, body, err := fasthttp.Get(nil, base+"/metrics")
	if err != nil || status != fasthttp.StatusOK {
		return routeLatency{}, fmt.Errorf("read /metrics: %d %v", status, err)
	}
	prefix := []byte(fmt.Sprintf(`hogsend_http_request_duration_seconds_bucket{route=%q,le="`, route))
	var h routeLatency
	for line := range bytes.SplitSeq(body, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, prefix)
		if !ok {
			continue
		}
		le, count, ok := bytes.Cut(rest, []byte(`"} `))
		if !ok {
			return routeLatency{}, fmt.Errorf("malformed bucket line %q", line)
		}
		bound, err1 := strconv.ParseFloat(string(le), 64)
		n, err2 := strconv.ParseInt(string(count), 10, 64)
		if err1 != nil || err2 != nil {
			return routeLatency{}, fmt.Errorf("malformed bucket line %q", line)
		}
		h.bounds, h.counts = append(h.bounds, bound), append(h.counts, n)
	}
	if len(h.bounds) == 0 {
		return routeLatency{}, fmt.Errorf("/metrics lacks the buckets of route %q", route)
	}
	return h, nil
}

// since is what h counted after earlier, a reading of the same histogram.
func (h routeLatency) since(earlier routeLatency) routeLatency {
	d := routeLatency{bounds: h.bounds, counts: make([]int64, len(h.counts))}
	for i := range h.counts {
		d.counts[i] = h.counts[i]
		if i < len(earlier.counts) {
			d.counts[i] -= earlier.counts[i]
		}
	}
	return d
}

// upTo is the smallest bucket bound holding at least the fraction q of the
// requests counted: the quantile as the histogram can tell it.
func (h routeLatency) upTo(q float64) string {
	if len(h.counts) == 0 || h.counts[len(h.counts)-1] == 0 {
		return "none counted"
	}
	want := int64(q * float64(h.counts[len(h.counts)-1]))
	for i, c := range h.counts {
		switch {
		case c < want:
		case !math.IsInf(h.bounds[i], 1):
			return "≤ " + seconds(h.bounds[i]).String()
		case i > 0:
			return "> " + seconds(h.bounds[i-1]).String()
		}
	}
	return "unknown"
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
