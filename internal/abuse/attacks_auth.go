package abuse

import (
	"context"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"
)

// authAttacks flood the native API with random keys: each is 401 until the
// failed-auth throttle answers 429 for the address, each 429 held back a
// second; a worker stops at its third.
func authAttacks() []Attack {
	return []Attack{{Name: "random-api-keys", Group: "auth flood", run: randomKeys}}
}

func randomKeys(ctx context.Context, t Target, src net.IP, r *Result) {
	client := t.httpClient(src, 8)
	defer client.CloseIdleConnections()
	e := Expect{Statuses: []int{401, 429}}
	fanOut(8, func(w int) {
		rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
		for i, throttled := 0, 0; i < 250 && throttled < 3 && ctx.Err() == nil; i++ {
			a := t.do(ctx, client, "POST", "/v1/events", "hsk_"+hex.EncodeToString(randomBytes(rng, 24)), `{"name":"abuse.key","userId":"nobody"}`)
			r.record("random bearer", a, e)
			if a.Status == 429 {
				throttled++
			}
		}
	})
	// A run its bench phase cut short proves nothing either way.
	if ctx.Err() == nil && r.Count("429") == 0 {
		r.fail("no failed-auth throttle: every one of %d random keys was answered %s", r.Requests, r.Summary())
	}
}

// httpClient is a keep-alive client whose connections come from src.
func (t Target) httpClient(src net.IP, conns int) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: d.DialContext, MaxIdleConnsPerHost: conns, DisableCompression: true,
	}}
}

// do sends a JSON request with an optional bearer and returns the answer.
func (t Target) do(ctx context.Context, client *http.Client, method, path, bearer, body string) Answer {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+t.Addr+path, strings.NewReader(body))
	if err != nil {
		return Answer{Err: err}
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := client.Do(req)
	if err != nil {
		return failedAnswer(ctx, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return Answer{Status: resp.StatusCode, Body: b, Header: map[string]string{
		"Retry-After": resp.Header.Get("Retry-After"), "Content-Type": resp.Header.Get("Content-Type"),
	}}
}
