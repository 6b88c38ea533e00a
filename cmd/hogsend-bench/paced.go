package main

import (
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// pace sends rate requests a second over conns connections until stop is
// closed: a steady load whose answers do not depend on how fast the proxy
// could go. fill builds the n-th request on worker w's connection and
// returns how many events it carries and the status that acknowledges them.
func pace(addr string, conns, rate int, stop <-chan struct{},
	fill func(w int, n int64, req *fasthttp.Request) (events int64, okStatus int)) *loadResult {
	var seq atomic.Int64
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	return driveHTTP(addr, conns, 24*time.Hour, func(w, _ int, req *fasthttp.Request) (int64, int, bool) {
		n := seq.Add(1) - 1
		select {
		case <-stop:
			return 0, 0, false
		case <-time.After(time.Until(start.Add(time.Duration(n) * interval))):
		}
		events, okStatus := fill(w, n, req)
		return events, okStatus, true
	})
}
