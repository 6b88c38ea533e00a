package identity_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// TestDifferential runs the same random op sequences against the memory store
// and the Redis store and requires identical results, field for field: the
// two implementations of the algorithm (Go and Lua) must not drift apart.
// The Redis store runs twice: uncached, and as two caching stores on one
// graph (two proxies), each op sent to either, so that a copy one holds is
// met by changes the other makes.
func TestDifferential(t *testing.T) {
	srv := testenv.Redis(t)
	ctx := context.Background()
	values := []string{`1`, `"s"`, `null`, `{"id":"1","n":null}`, `{"x":{"y":[1,"}"]},"id":2}`,
		`[1,2]`, `{ "sp" : 1.50 , "e":"q\"}" }`, `{}`, `true`, `123456789012345678901`}
	names := []string{"a", "b", "discord", "telegram", `q"k`}
	distincts := []string{"e0", "e1", "e2", "a0", "a1", "a2", "d0", "d1", "d2", "d3", " d4 "}
	pick := func(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }
	// Claim keys: native ones, and PostHog UUIDv7s (two created in one
	// second) that Redis keeps in buckets.
	claimKeys := []string{"k0", "k1", "k2",
		"ph:018bcfe5-6800-7000-8000-000000000001", "ph:018bcfe5-6bb0-7000-8000-000000000002",
		"ph:018bcfe5-6fe8-7000-8000-000000000003"}
	var touches, stale uint64
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			mem := identity.NewMemory()
			red := newRedis(t, srv.RedisURL(), identity.WithKeyPrefix(fmt.Sprintf("d%d:", seed)))
			var fleet [2]*identity.Redis
			for i := range fleet {
				fleet[i] = newRedis(t, srv.RedisURL(), identity.WithKeyPrefix(fmt.Sprintf("dc%d:", seed)), identity.WithContactCache(1<<20))
			}
			defer func() {
				for _, f := range fleet {
					n, s := f.TouchCounts()
					touches, stale = touches+n, stale+s
				}
			}()
			var stats [9]int // created linked merged duplicate not-found deleted merge-refused refused unproven
			for step := range 300 {
				now := identitytestT0 + int64(step)
				if r.IntN(20) == 0 {
					e, u := fmt.Sprintf("e%d@x", r.IntN(5)), fmt.Sprintf("e%d", r.IntN(5))
					if r.IntN(2) == 0 {
						e = ""
					}
					mc, ma, merr := mem.Delete(ctx, e, u, now)
					rc, ra, rerr := red.Delete(ctx, e, u, now)
					fc, fa, ferr := fleet[r.IntN(2)].Delete(ctx, e, u, now)
					if merr != nil || rerr != nil || ferr != nil {
						t.Fatalf("delete: %v / %v / %v", merr, rerr, ferr)
					}
					same(t, step, "delete contacts", mc, rc)
					same(t, step, "delete aliases", ma, ra)
					same(t, step, "cached delete contacts", mc, fc)
					same(t, step, "cached delete aliases", ma, fa)
					stats[5] += len(mc)
					continue
				}
				n := 1 + r.IntN(4)
				ops := make([]identity.ResolveOp, n)
				// Half the steps claim under one ticket, as a PostHog batch does,
				// and some of those are never confirmed (a request that died).
				ticket := ""
				if r.IntN(2) == 0 {
					ticket = identity.NewClaimTicket(now)
				}
				confirm := r.IntN(5) > 0
				for i := range ops {
					o := &ops[i]
					o.NewID = uuid.Must(uuid.NewV7())
					o.Now = now
					o.NoCreate = r.IntN(8) == 0
					for _, kind := range []string{canonical.KindExternal, canonical.KindEmail, canonical.KindAnonymous} {
						if r.IntN(3) == 0 {
							v := fmt.Sprintf("%s%d", kind[:1], r.IntN(5))
							if kind == canonical.KindEmail {
								v += "@x"
							}
							o.Keys = append(o.Keys, identity.Key{Kind: kind, Value: v})
						}
					}
					for range r.IntN(3) {
						o.Set = append(o.Set, identity.Prop{Name: pick(r, names), Value: []byte(pick(r, values))})
					}
					for range r.IntN(2) {
						o.SetOnce = append(o.SetOnce, identity.Prop{Name: pick(r, names), Value: []byte(pick(r, values))})
					}
					if r.IntN(4) == 0 {
						o.IdempotencyKey = pick(r, claimKeys)
						o.ClaimTicket = ticket
						o.ClaimOnly = ticket != "" && r.IntN(2) == 0
					}
					// PostHog ids overlap the native external and anonymous
					// values, so lookups cross kinds.
					if r.IntN(2) == 0 {
						o.Distinct = pick(r, distincts)
						o.Identify = r.IntN(3) == 0
						if r.IntN(2) == 0 {
							o.MergeFrom = pick(r, distincts)
							o.MergeDangerously = r.IntN(4) == 0
						}
						if r.IntN(8) == 0 && len(o.Keys) > 0 {
							o.RefuseIdentified = true
						}
						// Capture trust: public or verified, a user token, $set.email.
						o.Trust = identity.Trust(r.IntN(3))
						if r.IntN(3) == 0 {
							o.ProvenUser = pick(r, distincts)
						}
						if r.IntN(3) == 0 {
							o.EmailClaim = fmt.Sprintf("e%d@x", r.IntN(5))
						}
					}
					for range r.IntN(2) {
						o.Unset = append(o.Unset, pick(r, names))
					}
				}
				mres := make([]identity.ResolveResult, n)
				rres := make([]identity.ResolveResult, n)
				if err := mem.Resolve(ctx, ops, mres); err != nil {
					t.Fatal(err)
				}
				if err := red.Resolve(ctx, ops, rres); err != nil {
					t.Fatal(err)
				}
				same(t, step, "resolve", mres, rres)
				f := fleet[r.IntN(2)]
				if err := f.Resolve(ctx, ops, rres); err != nil {
					t.Fatal(err)
				}
				same(t, step, "cached resolve", mres, rres)
				var claimed, tickets []string
				for i, x := range mres {
					if k := ops[i].IdempotencyKey; k != "" && !x.Duplicate && !x.ClaimPending && !x.Refused && x.Err == nil && ops[i].ClaimTicket == "" {
						claimed = append(claimed, k)
					}
				}
				if ticket != "" && confirm {
					tickets = []string{ticket}
				}
				if err := mem.ConfirmIdempotency(ctx, claimed, tickets, time.Hour); err != nil {
					t.Fatal(err)
				}
				for _, s := range []*identity.Redis{red, f} {
					if err := s.ConfirmIdempotency(ctx, claimed, tickets, time.Hour); err != nil {
						t.Fatal(err)
					}
				}
				for _, x := range mres {
					for i, on := range []bool{x.Created, x.Linked, x.Merged, x.Duplicate || x.ClaimPending,
						!x.Found && x.Err == nil && !x.Refused, false, x.MergeRefused, x.Refused, x.Unproven} {
						if on {
							stats[i]++
						}
					}
				}
			}
			// Every outcome must have been exercised for the comparison to mean much.
			for i, n := range stats {
				if n == 0 {
					t.Errorf("outcome %d never happened: %v", i, stats)
				}
			}
			t.Logf("created, linked, merged, duplicate, not found, deleted, merge refused, refused, unproven: %v", stats)
			for i := range 5 {
				e, u := fmt.Sprintf("e%d@x", i), fmt.Sprintf("e%d", i)
				mc, _ := mem.Find(ctx, e, u)
				rc, _ := red.Find(ctx, e, u)
				same(t, -1, "find", mc, rc)
			}
		})
	}
	// The cached stores must have touched, and met copies the other changed.
	t.Logf("touches %d, of which stale %d", touches, stale)
	if touches == 0 || stale == 0 {
		t.Errorf("touches %d, stale %d: the cache was not exercised", touches, stale)
	}
}

const identitytestT0 = int64(1_700_000_000_000)

func same(t *testing.T, step int, what string, m, r any) {
	t.Helper()
	if !reflect.DeepEqual(m, r) {
		t.Fatalf("step %d %s differs:\n memory %+v\n redis  %+v", step, what, m, r)
	}
}
