package identity_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// largeSetKeys is the size of the $set the merge benchmarks apply.
const largeSetKeys = 100_000

// The merge benchmarks report, besides wall time, the CPU time the merging
// process spent per op (cpu-ms/op: this process for the memory store,
// redis-server for Redis), which a loaded machine inflates less.

func BenchmarkMemoryLargeSet(b *testing.B) {
	benchmarkLargeSet(b, identity.NewMemory(), processCPU)
}

func BenchmarkRedisLargeSet(b *testing.B) {
	srv := testenv.Redis(b)
	// One op may keep Redis busy for long while merges are slow; the client
	// waits for it rather than failing the measurement.
	patient := identity.WithRedisTimeouts(30*time.Minute, time.Minute)
	s := newRedis(b, srv.RedisURL(), identity.WithKeyPrefix("bl:"), patient)
	benchmarkLargeSet(b, s, func() time.Duration { return redisCPU(b, s) })
}

// benchmarkLargeSet times one op whose $set has largeSetKeys names, applied to
// a contact that already holds as many, half of them the same: top-level
// properties, and the same as one "discord" object (merged one level deep).
// Names come in a shuffled order, as a client would send them.
func benchmarkLargeSet(b *testing.B, s identity.Store, cpu func() time.Duration) {
	base, patch := largeSetNames(largeSetKeys)
	b.Run("toplevel", func(b *testing.B) {
		baseProps, patchProps := largeProps(base, `"v"`), largeProps(patch, `123`)
		runLargeSet(b, s, cpu, func(o *identity.ResolveOp) { o.Set = baseProps },
			func(o *identity.ResolveOp) { o.Set = patchProps })
	})
	b.Run("discord", func(b *testing.B) {
		baseObj := []identity.Prop{{Name: "discord", Value: largeObject(base, `"v"`)}}
		patchObj := []identity.Prop{{Name: "discord", Value: largeObject(patch, `123`)}}
		runLargeSet(b, s, cpu, func(o *identity.ResolveOp) { o.Set = baseObj },
			func(o *identity.ResolveOp) { o.Set = patchObj })
	})
}

// runLargeSet creates a contact with setup's patch outside the timer, then
// times the op with measured's patch on it.
func runLargeSet(b *testing.B, s identity.Store, cpu func() time.Duration, setup, measured func(*identity.ResolveOp)) {
	ctx := context.Background()
	res := make([]identity.ResolveResult, 1)
	apply := func(email string, patch func(*identity.ResolveOp)) {
		o := identity.ResolveOp{Keys: []identity.Key{{Kind: canonical.KindEmail, Value: email}},
			NewID: uuid.Must(uuid.NewV7()), Now: 1_700_000_000_000}
		patch(&o)
		if err := s.Resolve(ctx, []identity.ResolveOp{o}, res); err != nil || res[0].Err != nil {
			b.Fatal(err, res[0].Err)
		}
	}
	b.ReportAllocs()
	var spent time.Duration
	for i := 0; i < b.N; i++ {
		email := fmt.Sprintf("large-%d-%s@example.com", i, b.Name())
		b.StopTimer()
		apply(email, setup)
		cpu0 := cpu()
		b.StartTimer()
		apply(email, measured)
		b.StopTimer()
		spent += cpu() - cpu0
		b.StartTimer()
	}
	b.ReportMetric(float64(spent.Milliseconds())/float64(b.N), "cpu-ms/op")
}

// processCPU is the CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// redisCPU is the CPU time redis-server has used (INFO cpu).
func redisCPU(b *testing.B, s *identity.Redis) time.Duration {
	info, err := s.Client().Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for line := range strings.SplitSeq(info, "\n") {
		name, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		if name == "used_cpu_user" || name == "used_cpu_sys" {
			secs, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatalf("INFO cpu %s: %v", line, err)
			}
			total += time.Duration(secs * float64(time.Second))
		}
	}
	return total
}

// largeSetNames returns n shuffled property names and n more of which the
// first half are also in the first list.
func largeSetNames(n int) (base, patch []string) {
	r := rand.New(rand.NewPCG(1, 2))
	names := func(from int) []string {
		out := make([]string, n)
		for i, j := range r.Perm(n) {
			out[i] = "prop_" + strconv.Itoa(from+j)
		}
		return out
	}
	return names(0), names(n / 2)
}

func largeProps(names []string, value string) []identity.Prop {
	out := make([]identity.Prop, len(names))
	for i, n := range names {
		out[i] = identity.Prop{Name: n, Value: []byte(value)}
	}
	return out
}

func largeObject(names []string, value string) []byte {
	out := []byte{'{'}
	for i, n := range names {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendQuote(out, n)
		out = append(out, ':')
		out = append(out, value...)
	}
	return append(out, '}')
}
