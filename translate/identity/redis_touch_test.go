package identity_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// Two proxies on one graph, each with its cache: while one keeps serving two
// people from its copies, the other merges them; the first's next resolve of
// the loser's key answers with the survivor, never with its stale copy.
func TestTouchNeverAnswersAStaleMerge(t *testing.T) {
	url := testenv.Redis(t).RedisURL()
	a := newRedis(t, url, identity.WithKeyPrefix("m:"), identity.WithContactCache(1<<20))
	b := newRedis(t, url, identity.WithKeyPrefix("m:"), identity.WithContactCache(1<<20))
	now := identitytestT0
	event := func(s *identity.Redis, keys ...identity.Key) identity.ResolveResult {
		t.Helper()
		now++
		return touchResolve(t, s, identity.ResolveOp{Keys: keys, NewID: uuid.Must(uuid.NewV7()), Now: now,
			Set: []identity.Prop{{Name: "plan", Value: []byte(`"pro"`)}}})
	}
	x := event(a, key(canonical.KindEmail, "x@x")).Contact
	y := event(a, key(canonical.KindExternal, "y")).Contact
	for range 3 {
		event(a, key(canonical.KindEmail, "x@x"))
		r := event(a, key(canonical.KindExternal, "y"))
		if r.Contact.LastSeenAt != now || r.Contact.ID != y.ID {
			t.Fatalf("touch answered %+v, want y seen at %d", r.Contact, now)
		}
	}
	if n, stale := a.TouchCounts(); n != 6 || stale != 0 {
		t.Fatalf("touches %d (stale %d), want 6 fresh: the repeated events should touch", n, stale)
	}
	// y (an external id) survives x; x's copy in a is now stale.
	m := event(b, key(canonical.KindEmail, "x@x"), key(canonical.KindExternal, "y"))
	if !m.Merged || m.Contact.ID != y.ID || len(m.Losers) != 1 || m.Losers[0].ID != x.ID {
		t.Fatalf("merge: %+v", m)
	}
	r := event(a, key(canonical.KindEmail, "x@x"))
	if r.Contact.ID != y.ID || r.Contact.Email != "x@x" || r.Contact.ExternalID != "y" {
		t.Fatalf("after the merge x@x resolved to %+v, want the survivor %s", r.Contact, y.ID)
	}
	if r.Contact.Version <= m.Contact.Version {
		t.Fatalf("version %d not above the merge's %d", r.Contact.Version, m.Contact.Version)
	}
	if _, stale := a.TouchCounts(); stale != 1 {
		t.Fatalf("stale touches %d, want 1 (x's copy)", stale)
	}
	// A property b changes makes a's copy of y stale too.
	now++
	touchResolve(t, b, identity.ResolveOp{Keys: []identity.Key{key(canonical.KindExternal, "y")}, NewID: uuid.Must(uuid.NewV7()), Now: now,
		Set: []identity.Prop{{Name: "plan", Value: []byte(`"team"`)}}})
	now++
	r = touchResolve(t, a, identity.ResolveOp{Keys: []identity.Key{key(canonical.KindExternal, "y")}, NewID: uuid.Must(uuid.NewV7()), Now: now})
	if string(r.Contact.Properties) != `{"plan":"team"}` {
		t.Fatalf("properties %s after b's change, want the new plan", r.Contact.Properties)
	}
}

// A delete through one proxy is seen by the other's next resolve, which
// creates a new contact instead of touching the deleted one.
func TestTouchSeesADelete(t *testing.T) {
	url := testenv.Redis(t).RedisURL()
	a := newRedis(t, url, identity.WithKeyPrefix("d:"), identity.WithContactCache(1<<20))
	b := newRedis(t, url, identity.WithKeyPrefix("d:"), identity.WithContactCache(1<<20))
	op := func(now int64) identity.ResolveOp {
		return identity.ResolveOp{Keys: []identity.Key{key(canonical.KindEmail, "d@x")}, NewID: uuid.Must(uuid.NewV7()), Now: now}
	}
	first := touchResolve(t, a, op(identitytestT0)).Contact
	touchResolve(t, a, op(identitytestT0+1))
	if _, _, err := b.Delete(context.Background(), "d@x", "", identitytestT0+2); err != nil {
		t.Fatal(err)
	}
	r := touchResolve(t, a, op(identitytestT0+3))
	if !r.Created || r.Contact.ID == first.ID {
		t.Fatalf("after the delete: %+v, want a new contact", r)
	}
}

func key(kind, v string) identity.Key { return identity.Key{Kind: kind, Value: v} }

func touchResolve(t *testing.T, s identity.Store, op identity.ResolveOp) identity.ResolveResult {
	t.Helper()
	res := make([]identity.ResolveResult, 1)
	if err := s.Resolve(context.Background(), []identity.ResolveOp{op}, res); err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	return res[0]
}

// The touches that end a call share one script call; when one copy is
// stale, it and the ops after it resolve in a second round trip, in order.
func TestTouchesEndingACallShareOneScript(t *testing.T) {
	srv := testenv.Redis(t)
	a := newRedis(t, srv.RedisURL(), identity.WithKeyPrefix("b:"), identity.WithContactCache(1<<20))
	b := newRedis(t, srv.RedisURL(), identity.WithKeyPrefix("b:"))
	emails := []string{"x@x", "y@y", "z@z"}
	call := func(s *identity.Redis, now int64) []identity.ResolveResult {
		t.Helper()
		ops := make([]identity.ResolveOp, len(emails))
		for i, e := range emails {
			ops[i] = identity.ResolveOp{Keys: []identity.Key{key(canonical.KindEmail, e)}, NewID: uuid.Must(uuid.NewV7()), Now: now}
		}
		res := make([]identity.ResolveResult, len(ops))
		if err := s.Resolve(context.Background(), ops, res); err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Err != nil || r.Contact.Email != emails[i] || r.Contact.LastSeenAt != now {
				t.Fatalf("op %d: %+v, want %s seen at %d", i, r, emails[i], now)
			}
			if i > 0 && r.Contact.Version <= res[i-1].Contact.Version {
				t.Fatalf("op %d: version %d not above op %d's %d: ops out of call order", i, r.Contact.Version, i-1, res[i-1].Contact.Version)
			}
		}
		return res
	}
	created := call(a, identitytestT0)
	scripts := evalCounter(t, a)
	call(a, identitytestT0+1)
	if n := scripts(); n != 1 {
		t.Fatalf("three touches took %d script calls, want 1", n)
	}
	if n, stale := a.TouchCounts(); n != 3 || stale != 0 {
		t.Fatalf("touches %d (stale %d), want 3 fresh", n, stale)
	}
	// y gains an external id through b: a's copy of y is stale.
	touchResolve(t, b, identity.ResolveOp{Keys: []identity.Key{key(canonical.KindEmail, "y@y"), key(canonical.KindExternal, "Y")},
		NewID: uuid.Must(uuid.NewV7()), Now: identitytestT0 + 2})
	scripts = evalCounter(t, a)
	res := call(a, identitytestT0+3)
	if n := scripts(); n != 3 {
		t.Fatalf("%d script calls, want 3: the batch, then y in full and z touched in order", n)
	}
	if res[1].Contact.ExternalID != "Y" || res[1].Contact.ID != created[1].Contact.ID {
		t.Fatalf("y resolved to %+v, want its contact with the external id b set", res[1].Contact)
	}
	if n, stale := a.TouchCounts(); n != 6 || stale != 1 {
		t.Fatalf("touches %d (stale %d), want 6 of which 1 stale", n, stale)
	}
}

// evalCounter returns a function that tells how many EVALSHA and EVAL calls
// s's server ran since evalCounter was called.
func evalCounter(t *testing.T, s *identity.Redis) func() int {
	t.Helper()
	ctx := context.Background()
	if err := s.Client().ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	return func() int {
		info, err := s.Client().Info(ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, st := range testenv.ParseRedisCommandStats(info) {
			if st.Name == "evalsha" || st.Name == "eval" {
				n += int(st.Calls)
			}
		}
		return n
	}
}

// A call of 1,200 touches shares one script call that checks each op
// against its own keys: every op touches, in order, and a copy made stale
// far into the call is the only one found stale.
func TestTouchesOfManyPeopleShareOneScriptInOrder(t *testing.T) {
	srv := testenv.Redis(t)
	a := newRedis(t, srv.RedisURL(), identity.WithKeyPrefix("m:"), identity.WithContactCache(8<<20))
	b := newRedis(t, srv.RedisURL(), identity.WithKeyPrefix("m:"))
	const people = 1200
	call := func(now int64) []identity.ResolveResult {
		t.Helper()
		ops := make([]identity.ResolveOp, people)
		for i := range ops {
			ops[i] = identity.ResolveOp{Keys: []identity.Key{key(canonical.KindEmail, fmt.Sprintf("p%d@x", i)),
				key(canonical.KindExternal, fmt.Sprintf("P%d", i))}, NewID: uuid.Must(uuid.NewV7()), Now: now}
		}
		res := make([]identity.ResolveResult, people)
		if err := a.Resolve(context.Background(), ops, res); err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Err != nil || r.Contact.ExternalID != fmt.Sprintf("P%d", i) || r.Contact.LastSeenAt != now {
				t.Fatalf("op %d: %+v", i, r)
			}
			if i > 0 && r.Contact.Version <= res[i-1].Contact.Version {
				t.Fatalf("op %d: version %d not above op %d's %d", i, r.Contact.Version, i-1, res[i-1].Contact.Version)
			}
		}
		return res
	}
	call(identitytestT0)
	scripts := evalCounter(t, a)
	call(identitytestT0 + 1)
	if n := scripts(); n != 1 {
		t.Fatalf("%d touches took %d script calls, want 1", people, n)
	}
	if n, stale := a.TouchCounts(); n != people || stale != 0 {
		t.Fatalf("touches %d (stale %d), want %d fresh", n, stale, people)
	}
	const moved = 1100
	touchResolve(t, b, identity.ResolveOp{Keys: []identity.Key{key(canonical.KindEmail, fmt.Sprintf("p%d@x", moved)),
		key(canonical.KindAnonymous, "anon-1100")}, NewID: uuid.Must(uuid.NewV7()), Now: identitytestT0 + 2})
	res := call(identitytestT0 + 3)
	if res[moved].Contact.AnonymousID != "anon-1100" {
		t.Fatalf("op %d resolved to %+v, want the anonymous id b set", moved, res[moved].Contact)
	}
	if n, stale := a.TouchCounts(); n != 2*people || stale != 1 {
		t.Fatalf("touches %d (stale %d), want %d of which 1 stale", n, stale, 2*people)
	}
}
