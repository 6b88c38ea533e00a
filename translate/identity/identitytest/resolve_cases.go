package identitytest

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

func testCreate(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	o := op(T0, ext(" u1 "), mail(" Ann@Example.COM "), anon("a1"))
	o.Source = "api"
	o = withSet(o, set("plan", `"pro"`), set("gone", "null"), set("nil", ""))
	o = withOnce(o, set("first_touch", `"ad"`), set("plan", `"free"`))
	r := resolve1(t, s, o)
	equal(t, "flags", flags(r), "found,created")
	c := r.Contact
	equal(t, "id", c.ID, o.NewID)
	equal(t, "columns", []string{c.ExternalID, c.Email, c.AnonymousID, c.Source}, []string{"u1", "ann@example.com", "a1", "api"})
	equal(t, "times", []int64{c.FirstSeenAt, c.LastSeenAt, c.CreatedAt, c.UpdatedAt, c.DeletedAt}, []int64{T0, T0, T0, T0, 0})
	// Null-valued keys are dropped; Set wins over SetOnce for the same name.
	equal(t, "properties", string(c.Properties), `{"first_touch":"ad","plan":"pro"}`)
	if c.Version == 0 {
		t.Errorf("version is 0")
	}
	equal(t, "aliases", r.Aliases, []canonical.Alias{
		alias("external", "u1", c.ID, uuid.Nil, canonical.ReasonResolve, c.Version, T0),
		alias("email", "ann@example.com", c.ID, uuid.Nil, canonical.ReasonResolve, c.Version, T0),
		alias("anonymous", "a1", c.ID, uuid.Nil, canonical.ReasonResolve, c.Version, T0),
	})
	equal(t, "losers", len(r.Losers), 0)

	// Every key resolves to it; the normalised email matches in any case.
	for _, k := range []identity.Key{ext("u1"), mail("ANN@example.com"), anon("a1")} {
		r2 := resolve1(t, s, op(T0+1, k))
		equal(t, "flags for "+k.Kind, flags(r2), "found,linked")
		equal(t, "id for "+k.Kind, r2.Contact.ID, c.ID)
		equal(t, "source kept", r2.Contact.Source, "api")
	}
}

func testFillInLink(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	c := resolve1(t, s, op(T0, mail("e@x"))).Contact
	r := resolve1(t, s, op(T0+10, ext("u1"), mail("e@x"), anon("n1")))
	equal(t, "flags", flags(r), "found,linked")
	got := r.Contact
	equal(t, "id", got.ID, c.ID)
	equal(t, "columns", []string{got.ExternalID, got.Email, got.AnonymousID}, []string{"u1", "e@x", "n1"})
	equal(t, "times", []int64{got.FirstSeenAt, got.LastSeenAt, got.CreatedAt, got.UpdatedAt}, []int64{T0, T0 + 10, T0, T0 + 10})
	if got.Version <= c.Version {
		t.Errorf("version %d not above %d", got.Version, c.Version)
	}
	equal(t, "aliases", r.Aliases, []canonical.Alias{
		alias("external", "u1", c.ID, uuid.Nil, canonical.ReasonPromote, got.Version, T0+10),
		alias("anonymous", "n1", c.ID, uuid.Nil, canonical.ReasonPromote, got.Version, T0+10),
	})

	// Nothing new: still linked, no alias rows, a new version and last_seen.
	r = resolve1(t, s, op(T0+20, mail("e@x"), ext("u1")))
	equal(t, "flags again", flags(r), "found,linked")
	equal(t, "aliases again", len(r.Aliases), 0)
	equal(t, "last seen", r.Contact.LastSeenAt, T0+20)
	if r.Contact.Version <= got.Version {
		t.Errorf("version %d not above %d", r.Contact.Version, got.Version)
	}
}

func testPrimaryEmailKept(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	c := resolve1(t, s, op(T0, ext("u1"), mail("a@x"))).Contact
	r := resolve1(t, s, op(T0+1, ext("u1"), mail("b@x")))
	equal(t, "flags", flags(r), "found,linked")
	equal(t, "email kept", r.Contact.Email, "a@x")
	equal(t, "aliases", r.Aliases, []canonical.Alias{
		alias("email", "b@x", c.ID, uuid.Nil, canonical.ReasonPromote, r.Contact.Version, T0+1),
	})
	// The extra email is a key of the same contact now.
	r = resolve1(t, s, op(T0+2, mail("b@x")))
	equal(t, "by extra email", r.Contact.ID, c.ID)
	equal(t, "still primary", r.Contact.Email, "a@x")
	equal(t, "find by extra email", ids(find(t, s, "b@x", "")), []uuid.UUID{c.ID})
	// Nor can the external id change.
	r = resolve1(t, s, op(T0+3, ext("u2"), mail("a@x")))
	equal(t, "external kept", r.Contact.ExternalID, "u1")
	equal(t, "find by extra external", ids(find(t, s, "", "u2")), []uuid.UUID{c.ID})
}

// testClaimRefused: an anonymous or external key that is another live
// contact's canonical key is not claimed by fill-in-link.
func testClaimRefused(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	resolve1(t, s, op(T0, ext("shared")))
	byID := resolve1(t, s, op(T0, mail("c@x"))).Contact // canonical key: its uuid
	a := resolve1(t, s, op(T0, mail("a@x"))).Contact
	for _, v := range []string{"shared", byID.ID.String()} {
		r := resolve1(t, s, op(T0+1, mail("a@x"), anon(v)))
		equal(t, "flags "+v, flags(r), "found,linked")
		equal(t, "id "+v, r.Contact.ID, a.ID)
		equal(t, "anonymous column "+v, r.Contact.AnonymousID, "")
		equal(t, "aliases "+v, len(r.Aliases), 0)
	}
}

// testUUIDExternalKey: an external key shaped like a uuid also matches the
// contact with that id.
func testUUIDExternalKey(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	c := resolve1(t, s, op(T0, mail("e@x"))).Contact
	v := strings.ToUpper(c.ID.String())
	r := resolve1(t, s, op(T0+1, ext(v)))
	equal(t, "flags", flags(r), "found,linked")
	equal(t, "id", r.Contact.ID, c.ID)
	// Upstream fills the empty column with the key, as for any key.
	equal(t, "external", r.Contact.ExternalID, v)
	equal(t, "aliases", r.Aliases, []canonical.Alias{
		alias("external", v, c.ID, uuid.Nil, canonical.ReasonPromote, r.Contact.Version, T0+1),
	})
	// A uuid-shaped anonymous id is not probed against ids.
	r = resolve1(t, s, op(T0+2, anon(uuid.NewString())))
	equal(t, "anonymous uuid creates", flags(r), "found,created")
}

func testNoCreate(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	o := withIdem(op(T0, mail("z@x")), "nc-1", 0)
	o.NoCreate = true
	o.NewID = uuid.Nil
	o = withSet(o, set("a", "1"))
	r := resolve1(t, s, o)
	equal(t, "flags", flags(r), "")
	equal(t, "contact", r.Contact.ID, uuid.Nil)
	equal(t, "aliases", len(r.Aliases), 0)
	equal(t, "find", len(find(t, s, "z@x", "")), 0)
	// The idempotency key is still claimed: the event is deduplicated even
	// though it resolved to no contact.
	equal(t, "claimed", flags(resolve1(t, s, o)), "duplicate")

	c := resolve1(t, s, op(T0+1, mail("z@x"))).Contact
	o = op(T0+2, mail("z@x"), ext("u"))
	o.NoCreate = true
	r = resolve1(t, s, o)
	equal(t, "flags existing", flags(r), "found,linked")
	equal(t, "id", r.Contact.ID, c.ID)
	equal(t, "external filled", r.Contact.ExternalID, "u")
}

func testBatch(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	ops := []identity.ResolveOp{
		op(T0, mail("b@x")),
		op(T0+1, mail("b@x"), ext("ub")), // sees the contact op 0 created
		op(T0 + 2),                       // no keys
		op(T0+3, identity.Key{Kind: "phone", Value: "+1"}),
		op(T0+4, ext("u1"), ext("u2")),
		op(T0+5, ext("ub"), mail("c@x")),
	}
	res := make([]identity.ResolveResult, len(ops))
	if err := s.Resolve(ctx(t), ops, res); err != nil {
		t.Fatal(err)
	}
	equal(t, "op0", flags(res[0]), "found,created")
	equal(t, "op1", flags(res[1]), "found,linked")
	equal(t, "op1 id", res[1].Contact.ID, res[0].Contact.ID)
	equal(t, "op1 external", res[1].Contact.ExternalID, "ub")
	if !errors.Is(res[2].Err, identity.ErrNoKeys) {
		t.Errorf("op2 err = %v, want ErrNoKeys", res[2].Err)
	}
	if res[3].Err == nil || res[4].Err == nil {
		t.Errorf("op3, op4 errs = %v, %v; want errors", res[3].Err, res[4].Err)
	}
	equal(t, "op5 id", res[5].Contact.ID, res[0].Contact.ID)
	equal(t, "op5 email kept", res[5].Contact.Email, "b@x")
	if res[5].Contact.Version <= res[1].Contact.Version || res[1].Contact.Version <= res[0].Contact.Version {
		t.Errorf("versions not increasing in op order: %d %d %d",
			res[0].Contact.Version, res[1].Contact.Version, res[5].Contact.Version)
	}
	if err := s.Resolve(ctx(t), ops, res[:1]); err == nil {
		t.Errorf("short results slice accepted")
	}
	if err := s.Resolve(ctx(t), nil, nil); err != nil {
		t.Errorf("empty call: %v", err)
	}
}

func testVersions(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	var last uint64
	next := func(what string, v uint64) {
		t.Helper()
		if v <= last {
			t.Errorf("%s: version %d not above %d", what, v, last)
		}
		last = v
	}
	a := resolve1(t, s, op(T0, mail("a@x")))
	next("create a", a.Contact.Version)
	b := resolve1(t, s, op(T0, ext("b")))
	next("create b", b.Contact.Version)
	l := resolve1(t, s, op(T0, mail("a@x"), anon("n")))
	next("link", l.Contact.Version)
	m := resolve1(t, s, op(T0, mail("a@x"), ext("b")))
	next("merge", m.Contact.Version)
	// Every row an op writes carries the op's version.
	for _, lo := range m.Losers {
		equal(t, "loser version", lo.Version, m.Contact.Version)
	}
	for _, al := range m.Aliases {
		equal(t, "alias version", al.Version, m.Contact.Version)
	}
	// Reads do not bump.
	equal(t, "find version", find(t, s, "a@x", "")[0].Version, m.Contact.Version)
	cs, tombs, err := s.Delete(ctx(t), "a@x", "", T0+5)
	if err != nil || len(cs) != 1 {
		t.Fatalf("delete: %v %v", cs, err)
	}
	next("delete", cs[0].Version)
	for _, tb := range tombs {
		equal(t, "tombstone version", tb.Version, cs[0].Version)
	}
	next("create after delete", resolve1(t, s, op(T0, mail("a@x"))).Contact.Version)
}

// testRefuseIdentified: an anonymous write that must not touch identified
// people creates and links anonymous contacts only.
func testRefuseIdentified(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	refusing := func(o identity.ResolveOp) identity.ResolveOp {
		o.RefuseIdentified = true
		return o
	}
	// Unknown anonymous id: created as usual.
	r := resolve1(t, s, refusing(withSet(op(T0, anon("anon-1")), set("a", "1"))))
	equal(t, "create", flags(r), "found,created")
	anonID := r.Contact.ID
	// Known anonymous-only contact: linked as usual.
	r = resolve1(t, s, refusing(op(T0+1, anon("anon-1"))))
	equal(t, "link anonymous", flags(r), "found,linked")
	equal(t, "same contact", r.Contact.ID, anonID)
	// Once the anonymous id belongs to an identified person, nothing is written.
	resolve1(t, s, op(T0+2, anon("anon-1"), mail("known@x")))
	before := find(t, s, "known@x", "")
	o := withIdem(refusing(withSet(op(T0+3, anon("anon-1")), set("b", "2"))), "refused-key", 0)
	r = resolve1(t, s, o)
	equal(t, "refused", flags(r), "refused")
	equal(t, "no aliases", len(r.Aliases), 0)
	after := find(t, s, "known@x", "")
	equal(t, "untouched", after, before)
	// The idempotency key was not claimed by the refused op.
	o.RefuseIdentified = false
	equal(t, "key still free", flags(resolve1(t, s, o)), "found,linked")
}
