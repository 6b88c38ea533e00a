// Package hostclient builds the pooled HTTP client of one base URL that the
// pass-through to an engine or PostHog, the hand-off and the mirror each
// use, and rids it of the connections a restarted server closed.
package hostclient

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// Base is an http(s) base URL as requests are built from it.
type Base struct {
	Scheme string
	Host   string // as in the URL: the Host header
	Prefix string // the URL's path, without its trailing slash
}

// URL is the absolute URL of path (which starts with "/") under b.
func (b Base) URL(path string) string { return b.Scheme + "://" + b.Host + b.Prefix + path }

// Options size a client.
type Options struct {
	Name             string // the User-Agent
	MaxConns         int
	MaxResponseBytes int
	Timeout          time.Duration // read and write timeout of one exchange
}

// New parses raw, an http(s)://host[:port][/path] base URL, and returns a
// pooled client of its host.
func New(raw string, o Options) (*fasthttp.HostClient, Base, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, Base{}, fmt.Errorf("%q: not an http(s) base URL", raw)
	}
	hc := &fasthttp.HostClient{
		Addr: hostPort(u), IsTLS: u.Scheme == "https", Name: o.Name,
		MaxConns: o.MaxConns, MaxResponseBodySize: o.MaxResponseBytes,
		ReadTimeout: o.Timeout, WriteTimeout: o.Timeout, MaxIdleConnDuration: 30 * time.Second,
	}
	return hc, Base{Scheme: u.Scheme, Host: u.Host, Prefix: strings.TrimSuffix(u.Path, "/")}, nil
}

// hostPort is u's host with the scheme's port when it names none.
func hostPort(u *url.URL) string {
	switch {
	case u.Port() != "":
		return u.Host
	case u.Scheme == "https":
		return u.Host + ":443"
	}
	return u.Host + ":80"
}

// DropDeadConns closes a client's pooled connections after one was found
// closed by the other end: after it restarts every pooled connection is
// dead, and fasthttp does not retry a POST on the next one, so each would
// cost a failed attempt until the idle timeout.
func DropDeadConns(hc *fasthttp.HostClient, err error) {
	if errors.Is(err, fasthttp.ErrConnectionClosed) {
		hc.CloseIdleConnections()
	}
}
