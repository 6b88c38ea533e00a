package abuse

import (
	"context"
	"math/rand/v2"
	"net"
	"time"
)

// routes are every path the proxy serves, and some it does not.
var routes = []string{
	"/v1/events", "/v1/contacts", "/v1/contacts/find?email=a@b.co", "/v1/admin/api-keys",
	"/healthz", "/readyz", "/metrics",
	"/e/", "/i/v0/e/", "/batch/", "/capture/", "/track", "/engage/", "/i/v0/ai/batch/", "/s/",
	"/flags/?v=2", "/decide/?v=3", "/array/phc_x/config", "/array/phc_x/config.js", "/_liveness",
	"/", "/nope", "/v1/", "/v1/events/extra", "/%ff%00", "/..%2f..%2fetc/passwd",
}

var methods = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "PROPFIND", "X-ABUSE"}

var contentTypes = []string{"", "application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream"}

// anyRoute is every answer a route may give to nonsense: never a 5xx
// (readyz excepted, whose 503 names a failing dependency), and a reason
// with every error.
var anyRoute = Expect{Statuses: []int{200, 201, 202, 204, 400, 401, 403, 404, 405, 411, 413, 415, 429, 431}}
var readyz = Expect{Statuses: append([]int{503}, anyRoute.Statuses...)}

// randomAttacks send random bytes with random methods to every route, and
// raw garbage instead of HTTP.
func randomAttacks() []Attack {
	return []Attack{
		{Name: "random-requests", Group: "random bytes", run: randomRequests},
		{Name: "garbage-bytes", Group: "random bytes", run: func(ctx context.Context, t Target, src net.IP, r *Result) {
			fanOut(20, func(i int) {
				rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
				c, err := t.dial(ctx, src)
				if err != nil {
					r.record("garbage", Answer{Err: err}, Expect{})
					return
				}
				defer c.Close()
				a := t.send(ctx, c, randomBytes(rng, 2048), "GET", t.Limits.HeaderTimeout+5*time.Second)
				r.record("2 KiB of random bytes", a, Expect{Statuses: []int{400, 408, 413, 429, 431}, CloseOK: true})
			})
		}},
	}
}

// randomRequests sends 300 requests of random method, route, content type
// and bytes, half with a valid ingest key, some claiming gzip.
func randomRequests(ctx context.Context, t Target, src net.IP, r *Result) {
	fanOut(4, func(w int) {
		rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
		for range 75 {
			if ctx.Err() != nil {
				return
			}
			q := request{method: methods[rng.IntN(len(methods))], path: routes[rng.IntN(len(routes))]}
			q.body = randomBytes(rng, rng.IntN(4096))
			if ct := contentTypes[rng.IntN(len(contentTypes))]; ct != "" {
				q.headers = append(q.headers, "Content-Type: "+ct)
			}
			if rng.IntN(2) == 0 {
				q.headers = append(q.headers, "Authorization: Bearer "+t.Key)
			}
			if rng.IntN(4) == 0 {
				q.headers = append(q.headers, "Content-Encoding: gzip")
			}
			e := anyRoute
			if q.path == "/readyz" {
				e = readyz
			}
			r.record(q.method+" "+q.path, t.exchange(ctx, src, q, 15*time.Second), e)
		}
	})
}

// panicAttacks ask for the remote-config paths that once stopped the
// process (a token sliced without its '/'). Attacks lists them last: where
// they still kill the proxy, nothing after them could run.
func panicAttacks() []Attack {
	return []Attack{{Name: "array-config", Group: "panic paths", run: func(ctx context.Context, t Target, src net.IP, r *Result) {
		paths := []string{"/array/config", "/array/config.js", "/array//config", "/array//config.js", "/array/config/",
			"/array/", "/array/x/y/config", "/array/phc_x/config/"}
		for _, p := range paths {
			for _, m := range []string{"GET", "POST", "OPTIONS", "HEAD"} {
				a := t.exchange(ctx, src, request{method: m, path: p}, 10*time.Second)
				if a.Status == 0 && !a.Closed && ctx.Err() == nil {
					r.fail("the proxy accepts no connection after the remote-config requests: %v", a.Err)
					return
				}
				r.record(m+" "+p, a, Expect{Statuses: []int{200, 204, 400, 404, 429}})
			}
		}
	}}}
}
