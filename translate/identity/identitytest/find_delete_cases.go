package identitytest

import (
	"testing"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

func testFind(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	a := resolve1(t, s, withSet(op(T0, ext("u1"), mail("a@x")), set("k", "1"))).Contact
	b := resolve1(t, s, op(T0, ext("u2"), mail("b@x"))).Contact
	cases := []struct {
		name, email, userID string
		want                []uuid.UUID
	}{
		{"email", "a@x", "", []uuid.UUID{a.ID}},
		{"email normalised", "  A@X ", "", []uuid.UUID{a.ID}},
		{"user id", "", " u2 ", []uuid.UUID{b.ID}},
		{"both, email first", "b@x", "u1", []uuid.UUID{b.ID, a.ID}},
		{"both, same contact once", "a@x", "u1", []uuid.UUID{a.ID}},
		{"email misses, user id hits", "zz@x", "u1", []uuid.UUID{a.ID}},
		{"user id is not an email", "", "a@x", []uuid.UUID{}},
		{"nothing", "zz@x", "zz", []uuid.UUID{}},
		{"empty", "", "", []uuid.UUID{}},
	}
	for _, c := range cases {
		equal(t, c.name, ids(find(t, s, c.email, c.userID)), c.want)
	}
	got := find(t, s, "a@x", "")[0]
	equal(t, "full contact", got, a)

	// Merged-away keys find the survivor, once.
	c := resolve1(t, s, op(T0, mail("c@x"))).Contact
	d := resolve1(t, s, op(T0, ext("d"))).Contact
	resolve1(t, s, op(T0+1, ext("d"), mail("c@x")))
	equal(t, "loser email", ids(find(t, s, "c@x", "")), []uuid.UUID{d.ID})
	equal(t, "loser email and survivor id", ids(find(t, s, "c@x", "d")), []uuid.UUID{d.ID})
	equal(t, "loser uuid", ids(find(t, s, "", c.ID.String())), []uuid.UUID{d.ID})
}

func testDelete(t *testing.T, newStore func(*testing.T) identity.Store) {
	s := newStore(t)
	a := resolve1(t, s, op(T0, ext("u"), mail("a@x"), anon("n"))).Contact
	cs, tombs, err := s.Delete(ctx(t), " A@x", "", T0+5)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 {
		t.Fatalf("deleted %d contacts, want 1", len(cs))
	}
	d := cs[0]
	equal(t, "deleted id", d.ID, a.ID)
	equal(t, "deleted times", []int64{d.DeletedAt, d.UpdatedAt}, []int64{T0 + 5, T0 + 5})
	if d.Version <= a.Version {
		t.Errorf("version %d not above %d", d.Version, a.Version)
	}
	tomb := func(kind, value string) canonical.Alias {
		return canonical.Alias{Kind: kind, Value: value, ContactID: a.ID, Deleted: true, Version: d.Version, At: T0 + 5}
	}
	equal(t, "tombstones", tombs, []canonical.Alias{tomb("anonymous", "n"), tomb("email", "a@x"), tomb("external", "u")})
	equal(t, "find by email", len(find(t, s, "a@x", "")), 0)
	equal(t, "find by user id", len(find(t, s, "", "u")), 0)

	// Any key of the deleted contact now creates a fresh one.
	r := resolve1(t, s, op(T0+6, mail("a@x"), ext("u")))
	equal(t, "re-create", flags(r), "found,created")
	if r.Contact.ID == a.ID {
		t.Errorf("re-created contact reuses deleted id %s", a.ID)
	}
	equal(t, "anonymous id too", flags(resolve1(t, s, op(T0+6, anon("n")))), "found,created")

	// Two matches are both deleted; nothing matched is not an error.
	x := resolve1(t, s, op(T0, mail("x@x"))).Contact
	y := resolve1(t, s, op(T0, ext("y"))).Contact
	cs, _, err = s.Delete(ctx(t), "x@x", "y", T0+7)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "two deleted", ids(cs), []uuid.UUID{x.ID, y.ID})
	cs, tombs, err = s.Delete(ctx(t), "x@x", "y", T0+8)
	if err != nil || len(cs) != 0 || len(tombs) != 0 {
		t.Errorf("delete of nothing: %v %v %v", cs, tombs, err)
	}

	// Deleting a merge survivor drops the keys it took over as well.
	p := resolve1(t, s, op(T0, mail("p@x"))).Contact
	q := resolve1(t, s, op(T0, ext("q"))).Contact
	resolve1(t, s, op(T0+1, ext("q"), mail("p@x")))
	cs, tombs, err = s.Delete(ctx(t), "", "q", T0+9)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "survivor deleted", ids(cs), []uuid.UUID{q.ID})
	var values []string
	for _, tb := range tombs {
		values = append(values, tb.Kind+":"+tb.Value)
	}
	equal(t, "survivor tombstones", values, []string{"email:p@x", "external:" + p.ID.String(), "external:q"})
	equal(t, "loser key free", flags(resolve1(t, s, op(T0+10, mail("p@x")))), "found,created")
}
