package proxy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/internal/hostclient"
)

// Upstream is the Hogsend engine behind the proxy: every request whose route
// the proxy does not serve itself goes to it unchanged but for the
// hop-by-hop headers, and its answer comes back as sent
// (docs/upstream.md § 1).
type Upstream struct {
	client  *fasthttp.HostClient
	scheme  string
	host    string
	prefix  string // the base URL's path, without its trailing slash
	timeout time.Duration
	breaker *gobreaker.CircuitBreaker[struct{}]
	// openFor is how long the breaker stays open: the Retry-After of the
	// answers it refuses.
	openFor time.Duration
}

// UpstreamOptions configures an Upstream.
type UpstreamOptions struct {
	URL     string        // the engine's base URL, http(s)://host[:port][/path]
	Timeout time.Duration // bound on one exchange with the engine
	// MaxConns bounds the pool of connections to the engine; default 512.
	MaxConns int
	// MaxResponseBytes bounds an answer of the engine; default 32 MiB.
	MaxResponseBytes int
	// BreakerFailures is how many failures in a row open the breaker
	// (default 5), for BreakerOpenFor (default 5 s).
	BreakerFailures uint32
	BreakerOpenFor  time.Duration
}

// NewUpstream returns the Upstream of o.URL.
func NewUpstream(o UpstreamOptions) (*Upstream, error) {
	o = upstreamDefaults(o)
	hc, base, err := hostclient.New(o.URL, hostclient.Options{Name: "hogsend-proxy",
		MaxConns: o.MaxConns, MaxResponseBytes: o.MaxResponseBytes, Timeout: o.Timeout})
	if err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	// Requests and answers pass as they are.
	hc.DisablePathNormalizing, hc.DisableHeaderNamesNormalizing, hc.NoDefaultUserAgentHeader = true, true, true
	up := &Upstream{scheme: base.Scheme, host: base.Host, prefix: base.Prefix,
		timeout: o.Timeout, openFor: o.BreakerOpenFor, client: hc}
	up.breaker = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "upstream",
		Timeout:     o.BreakerOpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= o.BreakerFailures },
	})
	return up, nil
}

func upstreamDefaults(o UpstreamOptions) UpstreamOptions {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 512
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = 32 << 20
	}
	if o.BreakerFailures == 0 {
		o.BreakerFailures = 5
	}
	if o.BreakerOpenFor <= 0 {
		o.BreakerOpenFor = 5 * time.Second
	}
	return o
}

// errEngineDown marks an exchange the breaker counts as a failure: the
// engine did not answer, or answered that it cannot serve (502, 503, 504).
var errEngineDown = errors.New("hogsend engine unavailable")

// checks reports the engine on /readyz, unavailable while the breaker is
// open, without making the proxy unready: everything but the
// passed-through routes works without it. None for a nil Upstream.
func (u *Upstream) checks() []Check {
	if u == nil {
		return nil
	}
	return []Check{{Name: "hogsend_engine", Advisory: true,
		Fn: func(context.Context) error {
			if u.breaker.State() == gobreaker.StateOpen {
				return fmt.Errorf("%w: breaker open after failed exchanges", errEngineDown)
			}
			return nil
		},
		Detail: func() string { return "breaker " + u.breaker.State().String() }}}
}
