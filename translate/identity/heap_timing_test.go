package identity_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/google/uuid"
	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// personsPerBatch is the people of one PostHog /batch/ request.
const personsPerBatch = 50

// BenchmarkMemoryPersonHeap reports the Go heap the in-process store keeps
// per person after /batch/ requests of new people: heap-B/person.
func BenchmarkMemoryPersonHeap(b *testing.B) {
	tmpl := pageviewProperties(b)
	ctx := context.Background()
	heap0 := liveHeap()
	s := identity.NewMemory()
	for i := 0; i < b.N; i++ {
		resolveBatch(ctx, b, s, tmpl, i)
	}
	b.StopTimer()
	b.ReportMetric(float64(liveHeap()-heap0)/float64(b.N*personsPerBatch), "heap-B/person")
	runtime.KeepAlive(s)
}

// BenchmarkRedisPersonMemory reports the same for the Redis store: Redis's
// used_memory per person (redis-B/person), and the Go heap left in the
// process, which should be none (heap-B/person).
func BenchmarkRedisPersonMemory(b *testing.B) {
	srv := testenv.Redis(b)
	tmpl := pageviewProperties(b)
	ctx := context.Background()
	s := newRedis(b, srv.RedisURL())
	redis0, heap0 := redisUsedMemory(b, s), liveHeap()
	for i := 0; i < b.N; i++ {
		resolveBatch(ctx, b, s, tmpl, i)
	}
	b.StopTimer()
	persons := float64(b.N * personsPerBatch)
	b.ReportMetric(float64(liveHeap()-heap0)/persons, "heap-B/person")
	b.ReportMetric(float64(redisUsedMemory(b, s)-redis0)/persons, "redis-B/person")
}

// resolveBatch decodes one /batch/ body of new people and resolves them as
// the capture route does: ops whose strings and bytes point into the body,
// their claims under one ticket, confirmed once done. The body is garbage
// afterwards unless the store holds on to it.
func resolveBatch(ctx context.Context, b *testing.B, s identity.Store, tmpl string, batch int) {
	body := batchBody(tmpl, batch)
	now := time.Now().UnixMilli()
	ticket := identity.NewClaimTicket(now)
	ops := batchOps(body, ticket, now)
	res := make([]identity.ResolveResult, len(ops))
	if err := s.Resolve(ctx, ops, res); err != nil {
		b.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || !r.Created {
			b.Fatalf("person %d of batch %d: %v (%+v)", i, batch, r.Err, r)
		}
	}
	if err := s.ConfirmIdempotency(ctx, nil, []string{ticket}, time.Hour); err != nil {
		b.Fatal(err)
	}
}

// batchBody is a /batch/ body of personsPerBatch $pageview events, each of a
// new person: posthog-js properties (the recorded fixture's, with its
// $set_once) plus a $set of the person's email and name.
func batchBody(tmpl string, batch int) []byte {
	var sb strings.Builder
	sb.Grow(personsPerBatch * (len(tmpl) + 256))
	sb.WriteString(`{"api_key":"phc_bench","batch":[`)
	for i := range personsPerBatch {
		if i > 0 {
			sb.WriteByte(',')
		}
		n := strconv.Itoa(batch*personsPerBatch + i)
		fmt.Fprintf(&sb, `{"event":"$pageview","uuid":%q,"distinct_id":%q,"timestamp":"2025-07-01T02:55:00Z","properties":`,
			uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String())
		sb.WriteString(`{"$set":{"email":"person-` + n + `@example.com","name":"Person ` + n + `"},`)
		sb.WriteString(tmpl[1:])
		sb.WriteByte('}')
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

// batchOps builds the resolve ops of a body as capture does: gjson over the
// body's memory, so every string and value is a view of it.
func batchOps(body []byte, ticket string, now int64) []identity.ResolveOp {
	text := unsafe.String(unsafe.SliceData(body), len(body))
	var ops []identity.ResolveOp
	gjson.Get(text, "batch").ForEach(func(_, ev gjson.Result) bool {
		props := ev.Get("properties")
		op := identity.ResolveOp{
			Distinct: ev.Get("distinct_id").Str, NewID: uuid.Must(uuid.NewV7()), Source: "posthog", Now: now,
			Keys:           []identity.Key{{Kind: canonical.KindEmail, Value: identity.NormalizeEmail(props.Get("$set.email").Str)}},
			Set:            viewProps(props.Get("$set")),
			SetOnce:        viewProps(props.Get("$set_once")),
			IdempotencyKey: "ph:" + ev.Get("uuid").Str, ClaimTicket: ticket,
		}
		ops = append(ops, op)
		return true
	})
	return ops
}

func viewProps(obj gjson.Result) []identity.Prop {
	var out []identity.Prop
	obj.ForEach(func(k, v gjson.Result) bool {
		out = append(out, identity.Prop{Name: k.Str, Value: unsafe.Slice(unsafe.StringData(v.Raw), len(v.Raw))})
		return true
	})
	return out
}

// pageviewProperties is the properties object of the recorded posthog-js
// $pageview (batch_events_payload.json).
func pageviewProperties(b *testing.B) string {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "fixtures", "posthog", "batch_events_payload.json"))
	if err != nil {
		b.Skipf("fixture: %v", err)
	}
	return gjson.GetBytes(raw, "batch.0.properties").Raw
}

// liveHeap is the heap in use once garbage is collected.
func liveHeap() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

func redisUsedMemory(b *testing.B, s *identity.Redis) int64 {
	info, err := s.Client().Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatalf("used_memory %q: %v", v, err)
			}
			return n
		}
	}
	b.Fatal("INFO memory without used_memory")
	return 0
}
