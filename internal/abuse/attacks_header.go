package abuse

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"
)

var headersTooLarge = Expect{Statuses: []int{431, 429}}

// headerAttacks send more header bytes than the proxy reads: many headers,
// and one huge one.
func headerAttacks() []Attack {
	many := make([]string, 8000)
	for i := range many {
		many[i] = fmt.Sprintf("X-Pad-%d: v", i)
	}
	huge := []string{"X-Huge: " + strings.Repeat("h", 1<<20)}
	return []Attack{
		{Name: "header-many", Group: "header floods", run: func(ctx context.Context, t Target, src net.IP, r *Result) {
			q := request{method: "GET", path: "/healthz", headers: many}
			fanOut(10, func(int) { r.record("8000 headers", t.exchange(ctx, src, q, 15*time.Second), headersTooLarge) })
		}},
		{Name: "header-huge", Group: "header floods", run: func(ctx context.Context, t Target, src net.IP, r *Result) {
			q := request{method: "POST", path: "/batch/", headers: huge, body: []byte("{}")}
			fanOut(5, func(int) { r.record("a 1 MiB header", t.exchange(ctx, src, q, 15*time.Second), headersTooLarge) })
		}},
	}
}
