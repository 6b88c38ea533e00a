package hostclient

import "testing"

func TestNew(t *testing.T) {
	for _, c := range []struct{ raw, addr, url string }{
		{"https://eu.i.posthog.com", "eu.i.posthog.com:443", "https://eu.i.posthog.com/batch/"},
		{"http://engine:3000/api/", "engine:3000", "http://engine:3000/api/batch/"},
		{"http://engine", "engine:80", "http://engine/batch/"},
	} {
		hc, base, err := New(c.raw, Options{Name: "t"})
		if err != nil || hc.Addr != c.addr || hc.IsTLS != (base.Scheme == "https") || base.URL("/batch/") != c.url {
			t.Errorf("%s: addr %q url %q, %v; want %q %q", c.raw, hc.Addr, base.URL("/batch/"), err, c.addr, c.url)
		}
	}
	for _, raw := range []string{"engine:3000", "ftp://x", "http://", ":"} {
		if _, _, err := New(raw, Options{}); err == nil {
			t.Errorf("%q accepted", raw)
		}
	}
}
