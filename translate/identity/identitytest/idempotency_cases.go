package identitytest

import (
	"encoding/binary"
	"hash/fnv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

func testIdempotency(t *testing.T, newStore func(*testing.T) identity.Store, key func(string) string) {
	s := newStore(t)
	r := resolve1(t, s, withIdem(op(T0, mail("i@x")), key("k1"), 0))
	equal(t, "first", flags(r), "found,created")
	// A duplicate still resolves and merges properties (upstream behaviour).
	r2 := resolve1(t, s, withIdem(withSet(op(T0+1, mail("i@x")), set("plan", `"b"`)), key("k1"), 0))
	equal(t, "duplicate", flags(r2), "found,linked,duplicate")
	equal(t, "duplicate applied properties", string(r2.Contact.Properties), `{"plan":"b"}`)
	equal(t, "duplicate bumped last seen", r2.Contact.LastSeenAt, T0+1)
	// The scope is global: another contact, same key, still a duplicate.
	equal(t, "other contact", flags(resolve1(t, s, withIdem(op(T0+2, mail("j@x")), key("k1"), 0))), "found,created,duplicate")
	equal(t, "other key", flags(resolve1(t, s, withIdem(op(T0+3, mail("i@x")), key("k2"), 0))), "found,linked")

	if err := s.ReleaseIdempotency(ctx(t), []string{key("k1"), key("never-claimed")}); err != nil {
		t.Fatal(err)
	}
	equal(t, "after release", flags(resolve1(t, s, withIdem(op(T0+4, mail("i@x")), key("k1"), 0))), "found,linked")
	equal(t, "claimed again", flags(resolve1(t, s, withIdem(op(T0+5, mail("i@x")), key("k1"), 0))), "found,linked,duplicate")
	if err := s.ReleaseIdempotency(ctx(t), nil); err != nil {
		t.Fatal(err)
	}

	// Two ops of one call with the same key: the second finds the first's
	// claim still pending (its records are not durable yet).
	res := resolve(t, s, withIdem(op(T0+6, mail("i@x")), key("k3"), 0), withIdem(op(T0+6, mail("i@x")), key("k3"), 0))
	equal(t, "batch first", flags(res[0]), "found,linked")
	equal(t, "batch second", flags(res[1]), "found,linked,pending")
}

// testPendingClaims: a claim stays pending until confirmed, so a retry of a
// request that died before its records were durable is told to retry, never
// that it was stored; confirmed, the same key is a duplicate.
func testPendingClaims(t *testing.T, newStore func(*testing.T) identity.Store, key func(string) string) {
	s := newStore(t)
	o := withIdem(op(T0, mail("p@x")), key("pend"), 0)
	res := make([]identity.ResolveResult, 1)
	if err := s.Resolve(ctx(t), []identity.ResolveOp{o}, res); err != nil || res[0].Err != nil {
		t.Fatalf("claim: %v %v", err, res[0].Err)
	}
	equal(t, "claimed", flags(res[0]), "found,created")
	if err := s.Resolve(ctx(t), []identity.ResolveOp{o}, res); err != nil || res[0].Err != nil {
		t.Fatalf("retry: %v %v", err, res[0].Err)
	}
	equal(t, "retry while pending", flags(res[0]), "found,linked,pending")
	if err := s.ConfirmIdempotency(ctx(t), []string{key("pend")}, nil, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Resolve(ctx(t), []identity.ResolveOp{o}, res); err != nil || res[0].Err != nil {
		t.Fatalf("after confirm: %v %v", err, res[0].Err)
	}
	equal(t, "after confirm", flags(res[0]), "found,linked,duplicate")
}

func testIdempotencyWindow(t *testing.T, newStore func(*testing.T) identity.Store, key func(string) string) {
	s := newStore(t)
	const window = 150 * time.Millisecond
	o := withIdem(op(T0, mail("w@x")), key("short"), window)
	equal(t, "first", resolve1(t, s, o).Duplicate, false)
	equal(t, "inside window", resolve1(t, s, o).Duplicate, true)
	time.Sleep(3 * window)
	equal(t, "after window", resolve1(t, s, o).Duplicate, false)
	equal(t, "claimed anew", resolve1(t, s, o).Duplicate, true)
}

func testAPIKeys(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	k := canonical.APIKey{
		Hash: "ab12", Prefix: "sk_live_", Name: "server", Scopes: []string{"ingest", "read"},
		CreatedAt: T0, ExpiresAt: T0 + 1000,
	}
	if err := s.PutAPIKey(ctx(t), k); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.APIKey(ctx(t), "ab12")
	if err != nil || !ok {
		t.Fatalf("get: %v %v", ok, err)
	}
	equal(t, "key", got, k)
	k.RevokedAt, k.Scopes, k.Name = T0+5, nil, "renamed"
	if err := s.PutAPIKey(ctx(t), k); err != nil {
		t.Fatal(err)
	}
	got, _, _ = s.APIKey(ctx(t), "ab12")
	equal(t, "replaced", got, k)
	if _, ok, err := s.APIKey(ctx(t), "missing"); ok || err != nil {
		t.Errorf("missing key: %v %v", ok, err)
	}
	if err := s.Ping(ctx(t)); err != nil {
		t.Errorf("ping: %v", err)
	}
}

// testClaimOnly: a claim-only op claims its key like any op and touches no
// contact.
func testClaimOnly(t *testing.T, newStore func(*testing.T) identity.Store, key func(string) string) {
	s := newStore(t)
	o := identity.ResolveOp{ClaimOnly: true, IdempotencyKey: key("only"), Now: T0}
	res := make([]identity.ResolveResult, 3)
	ops := []identity.ResolveOp{o, o, {ClaimOnly: true, Now: T0}}
	if err := s.Resolve(ctx(t), ops, res); err != nil {
		t.Fatal(err)
	}
	equal(t, "claimed", flags(res[0]), "")
	equal(t, "second in the batch", flags(res[1]), "pending")
	if res[2].Err == nil {
		t.Fatalf("claim-only op without a key accepted")
	}
	if err := s.ConfirmIdempotency(ctx(t), []string{key("only")}, nil, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Resolve(ctx(t), ops[:1], res[:1]); err != nil || res[0].Err != nil {
		t.Fatal(err, res[0].Err)
	}
	equal(t, "after confirm", flags(res[0]), "duplicate")
	// The same key on a full op is a duplicate too: one namespace of claims.
	equal(t, "full op", flags(resolve1(t, s, withIdem(op(T0+1, mail("c@x")), key("only"), 0))), "found,created,duplicate")
	equal(t, "no contact from claims", len(find(t, s, "c@x", "")), 1)
}

// testClaimTickets: claims made under one ticket are pending until the ticket
// is confirmed, then duplicates; a ticket never confirmed goes stale at its
// deadline and the next claim takes its keys over; confirming a ticket never
// confirms a key another claim holds since.
func testClaimTickets(t *testing.T, newStore func(*testing.T) identity.Store, key func(string) string) {
	s := newStore(t)
	claimOnly := func(name, ticket string, now int64) identity.ResolveOp {
		return identity.ResolveOp{ClaimOnly: true, IdempotencyKey: key(name), ClaimTicket: ticket, Now: now}
	}
	full := func(name, ticket string, now int64) identity.ResolveOp {
		o := withIdem(op(now, mail("t@x")), key(name), 0)
		o.ClaimTicket = ticket
		return o
	}
	run := func(ops ...identity.ResolveOp) []string {
		t.Helper()
		res := make([]identity.ResolveResult, len(ops))
		if err := s.Resolve(ctx(t), ops, res); err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(res))
		for i, r := range res {
			if r.Err != nil {
				t.Fatalf("op %d: %v", i, r.Err)
			}
			out[i] = map[bool]string{true: "duplicate", false: map[bool]string{true: "pending", false: "claimed"}[r.ClaimPending]}[r.Duplicate]
		}
		return out
	}
	t1 := identity.NewClaimTicket(T0)
	equal(t, "first claims", run(full("a", t1, T0), claimOnly("b", t1, T0), claimOnly("c", t1, T0)), []string{"claimed", "claimed", "claimed"})
	t2 := identity.NewClaimTicket(T0 + 1)
	equal(t, "retry before confirm", run(full("a", t2, T0+1), claimOnly("b", t2, T0+1), claimOnly("c", "", T0+1)), []string{"pending", "pending", "pending"})
	if err := s.ConfirmIdempotency(ctx(t), nil, []string{t1}, time.Hour); err != nil {
		t.Fatal(err)
	}
	equal(t, "after confirm", run(full("a", t2, T0+2), claimOnly("b", "", T0+2), claimOnly("c", t2, T0+2)), []string{"duplicate", "duplicate", "duplicate"})

	// A request that died: its ticket is never confirmed. Before the
	// deadline a retry is told to wait; after it, the retry claims.
	dead := identity.NewClaimTicket(T0)
	deadline := T0 + identity.PendingClaimWindow.Milliseconds()
	equal(t, "dead request", run(claimOnly("d", dead, T0), claimOnly("e", dead, T0)), []string{"claimed", "claimed"})
	equal(t, "before its deadline", run(claimOnly("d", "", deadline-1), full("e", "", deadline-1)), []string{"pending", "pending"})
	t3 := identity.NewClaimTicket(deadline)
	equal(t, "after its deadline", run(claimOnly("d", t3, deadline), full("e", t3, deadline)), []string{"claimed", "claimed"})
	// The dead ticket confirmed late confirms nothing now held by t3.
	if err := s.ConfirmIdempotency(ctx(t), nil, []string{dead}, time.Hour); err != nil {
		t.Fatal(err)
	}
	equal(t, "late confirm of the dead ticket", run(claimOnly("d", "", deadline+1)), []string{"pending"})
	if err := s.ConfirmIdempotency(ctx(t), nil, []string{t3}, time.Hour); err != nil {
		t.Fatal(err)
	}
	equal(t, "t3 confirmed", run(claimOnly("d", "", deadline+2), claimOnly("e", "", deadline+2)), []string{"duplicate", "duplicate"})

	// Released ticketed claims can be claimed again at once.
	t4 := identity.NewClaimTicket(T0)
	equal(t, "claim f", run(claimOnly("f", t4, T0)), []string{"claimed"})
	if err := s.ReleaseIdempotency(ctx(t), []string{key("f")}); err != nil {
		t.Fatal(err)
	}
	equal(t, "after release", run(claimOnly("f", "", T0)), []string{"claimed"})

	// A malformed ticket is refused, not stored.
	res := make([]identity.ResolveResult, 1)
	if err := s.Resolve(ctx(t), []identity.ResolveOp{claimOnly("g", "not-a-ticket", T0)}, res); err != nil {
		t.Fatal(err)
	}
	if res[0].Err == nil {
		t.Fatal("malformed ticket accepted")
	}
}

// plainKeys names claims as a native client does.
func plainKeys(name string) string { return name }

// postHogKeys names claims as PostHog events' UUIDv7s do, created a few
// hundred ms apart, so that some share a second (a Redis bucket) and some
// do not.
func postHogKeys(name string) string {
	h := fnv.New64a()
	h.Write([]byte(name))
	sum := h.Sum64()
	ms := uint64(T0) + sum%4*400
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	binary.BigEndian.PutUint64(b[8:], sum)
	b[6] = 0x70 | b[6]&0x0f
	b[8] = 0x80 | b[8]&0x3f
	return "ph:" + uuid.UUID(b).String()
}

// withKeys runs an idempotency case with claim keys named by key.
func withKeys(fn func(*testing.T, func(*testing.T) identity.Store, func(string) string), key func(string) string) func(*testing.T, func(*testing.T) identity.Store) {
	return func(t *testing.T, newStore func(*testing.T) identity.Store) { fn(t, newStore, key) }
}
