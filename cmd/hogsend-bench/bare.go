package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/posthog"
)

// The bare handler is what every scenario is reported against: the same
// fasthttp and gjson answering the same routes with the least work a
// correct edge must do (read, decompress, validate, pick the fields) and
// no identity, durability or storage. It runs in a process of its own
// (this binary with -serve-bare) so that its CPU is measured as the
// proxy's is; this machine's speed moves by 2× between days, so only
// ratios to it measured in the same run compare.

// serveBare serves the bare handler on addr until the process is killed.
func serveBare(addr string) error {
	var served atomic.Int64
	s := &fasthttp.Server{Handler: bareHandler(&served), MaxRequestBodySize: 20 << 20, NoDefaultServerHeader: true}
	return s.ListenAndServe(addr)
}

// bareRequestsMetric counts the requests the bare handler served; wrk's
// batch driver watches it to know its load has started, as it watches the
// proxy's spool appends.
const bareRequestsMetric = "bare_requests_total"

// bareHandler serves the routes of the load generators; served counts the
// requests answered 2xx.
func bareHandler(served *atomic.Int64) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		switch string(ctx.Path()) {
		case "/v1/events":
			bareEvent(ctx)
		case "/batch/", "/batch", "/e/", "/e", "/i/v0/e/", "/i/v0/e":
			bareCapture(ctx)
		case "/readyz", "/healthz", "/_liveness":
			ctx.SetStatusCode(fasthttp.StatusOK)
		case "/metrics":
			fmt.Fprintf(ctx, "%s %d\n", bareRequestsMetric, served.Load())
			return
		default:
			ctx.SetStatusCode(fasthttp.StatusNotFound)
		}
		if ctx.Response.StatusCode() < 300 {
			served.Add(1)
		}
	}
}

// bareEvent checks the bearer's shape, validates the JSON and picks the
// fields a native event needs.
func bareEvent(ctx *fasthttp.RequestCtx) {
	if !bytes.HasPrefix(ctx.Request.Header.Peek("Authorization"), []byte("Bearer ")) {
		ctx.SetStatusCode(fasthttp.StatusUnauthorized)
		return
	}
	body := ctx.PostBody()
	if !gjson.ValidBytes(body) {
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		return
	}
	f := gjson.GetManyBytes(body, "name", "email", "userId", "eventProperties")
	if f[0].Str == "" || (f[1].Str == "" && f[2].Str == "") || (f[3].Exists() && !f[3].IsObject()) {
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusAccepted)
	ctx.SetBodyString(`{"stored":true}`)
}

var bareEvents = sync.Pool{New: func() any { return new([]posthog.RawEvent) }}

// bareCapture decodes and parses a capture payload as the proxy does and
// works out each event's time.
func bareCapture(ctx *fasthttp.RequestCtx) {
	path, query := string(ctx.Path()), ctx.URI().QueryString()
	payload, err := posthog.DecodeRequest(posthog.RequestInput{Path: path, Query: query,
		ContentType: string(ctx.Request.Header.ContentType()), ContentEncoding: string(ctx.Request.Header.ContentEncoding()),
		Body: ctx.PostBody()}, posthog.Limits{})
	if err != nil {
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		return
	}
	events := bareEvents.Get().(*[]posthog.RawEvent)
	defer bareEvents.Put(events)
	p, err := posthog.ParsePayloadInto((*events)[:0], payload, path, posthog.Limits{})
	if err != nil {
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		return
	}
	*events = p.Events
	sentAt, _ := posthog.ResolveSentAt(p.SentAt, query)
	now := time.Now()
	for i := range p.Events {
		posthog.EventTime(&p.Events[i], sentAt, now)
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetBodyString(`{"status":"Ok"}`)
}

// bareServer is a running bare handler process.
type bareServer struct {
	addr string
	cmd  *exec.Cmd
}

// startBare runs this binary with -serve-bare on a free loopback port.
func startBare(env *benchEnv) (*bareServer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bare handler: %w", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(env))
	cmd := exec.Command(self, "-serve-bare", addr)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bare handler: %w", err)
	}
	b := &bareServer{addr: addr, cmd: cmd}
	if err := waitReady("http://"+addr, 10*time.Second); err != nil {
		b.stop()
		return nil, fmt.Errorf("bare handler: %w", err)
	}
	return b, nil
}

func (b *bareServer) stop() {
	_ = b.cmd.Process.Kill()
	_ = b.cmd.Wait()
}

// reference is the bare handler's figures under one scenario's load.
type reference struct {
	rate float64 // events per second
	p99  time.Duration
	cpu  string // its CPU per event
	// perEvent is the CPU per event of the bare handler, its load
	// generator and the whole machine (cpuMeter.perEvent).
	perEvent map[string]float64
}

// measureBare drives a bare handler with drive (warm-up first) and
// returns its figures.
func measureBare(env *benchEnv, warmup, duration time.Duration, drive func(addr string, d time.Duration) (*loadResult, error)) (*reference, error) {
	b, err := startBare(env)
	if err != nil {
		return nil, err
	}
	defer b.stop()
	if warmup > 0 {
		if _, err := drive(b.addr, warmup); err != nil {
			return nil, err
		}
	}
	meter := newCPUMeter([]string{"bare handler"}, []int{b.cmd.Process.Pid})
	res, err := drive(b.addr, duration)
	if err != nil {
		return nil, err
	}
	if res.errors > 0 {
		return nil, fmt.Errorf("bare handler: %d errors: %v", res.errors, res.firstErrors)
	}
	return &reference{rate: float64(res.acked) / res.elapsed.Seconds(), p99: res.p(0.99), cpu: meter.report(res.acked, res.elapsed),
		perEvent: meter.perEvent(res.acked)}, nil
}

// printRatio prints the bare handler's figures, the proxy's throughput as
// a ratio of them, and the storage ceiling of the run when it has one.
func printRatio(ref *reference, res *loadResult, got phaseFigures) {
	rate := float64(res.acked) / res.elapsed.Seconds()
	fmt.Printf("  bare handler:     %.0f events/s, p99 %s, same load and generator\n", ref.rate, ref.p99)
	fmt.Print(ref.cpu)
	fmt.Printf("  ratio to bare:    %.2f (throughput, proxy ÷ bare handler)\n", rate/ref.rate)
	if c, ok := storageCeiling(ref, got); ok {
		fmt.Printf("  storage ceiling:  %.2f (bare run's machine ÷ (bare handler + this run's load generator + ClickHouse), per event: the ratio of a proxy with no work of its own beyond the bare handler's)\n", c)
	}
}

// storageCeiling is the highest ratio to bare a run could reach if the
// proxy spent nothing beyond the bare handler's own work and nothing ran
// but the load generator and ClickHouse storing the events, both costing
// what they cost in the run (docs/operations.md § Edge benchmarks). Only
// server-mode runs measure ClickHouse apart from the proxy.
func storageCeiling(ref *reference, got phaseFigures) (float64, bool) {
	ch, ok := got.perEvent["clickhouse"]
	machine := ref.perEvent["whole machine"]
	floor := ref.perEvent["bare handler"] + got.perEvent["load generator"] + ch
	if !ok || machine <= 0 || floor <= 0 {
		return 0, false
	}
	return machine / floor, true
}
