package identitytest

import (
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// requestBuffer is a request body a store is handed views of, as the capture
// routes hand it strings and bytes that point into the decoded body. Once the
// request is done the buffer is reused: scrub overwrites it.
type requestBuffer struct{ b []byte }

func newRequestBuffer() *requestBuffer { return &requestBuffer{b: make([]byte, 0, 1<<12)} }

// bytes returns a view of s copied into the buffer.
func (r *requestBuffer) bytes(s string) []byte {
	if len(r.b)+len(s) > cap(r.b) {
		panic("request buffer full") // a reallocation would leave earlier views behind
	}
	at := len(r.b)
	r.b = append(r.b, s...)
	return r.b[at:len(r.b):len(r.b)]
}

// str is bytes as a string sharing the buffer's memory.
func (r *requestBuffer) str(s string) string {
	if s == "" {
		return ""
	}
	v := r.bytes(s)
	return unsafe.String(&v[0], len(v))
}

func (r *requestBuffer) scrub() {
	for i := range r.b {
		r.b[i] = '#'
	}
}

// testCopiesRequestBytes: whatever a store keeps (identity keys, columns,
// properties, idempotency keys, claim tickets, API keys) survives the
// request buffer it came from being overwritten.
func testCopiesRequestBytes(t *testing.T, newStore func(*testing.T) identity.Store) {
	t.Run("Resolve", func(t *testing.T) { testCopiesResolve(t, newStore(t)) })
	t.Run("Restore", func(t *testing.T) { testCopiesRestore(t, newStore(t)) })
}

func testCopiesResolve(t *testing.T, s identity.Store) {
	req := newRequestBuffer()
	ticket := identity.NewClaimTicket(T0)
	create := identity.ResolveOp{
		Keys:   []identity.Key{{Kind: req.str("external"), Value: req.str("user-1")}, {Kind: canonical.KindEmail, Value: req.str("ann@example.com")}},
		NewID:  uuid.Must(uuid.NewV7()),
		Source: req.str("posthog"),
		Set: []identity.Prop{{Name: req.str("plan"), Value: req.bytes(`"pro"`)},
			{Name: req.str("discord"), Value: req.bytes(`{"id":"d1","tag":"t"}`)},
			{Name: req.str("telegram"), Value: req.bytes(`{"not-an-object"}`)}},
		SetOnce:        []identity.Prop{{Name: req.str("first"), Value: req.bytes(`["a",1]`)}},
		IdempotencyKey: req.str("idem-1"), ClaimTicket: req.str(ticket), Now: T0,
	}
	link := identity.ResolveOp{
		Keys:           []identity.Key{ext(req.str("user-1")), anon(req.str("anon-1"))},
		NewID:          uuid.Must(uuid.NewV7()),
		Set:            []identity.Prop{{Name: req.str("discord"), Value: req.bytes(`{"tag":null,"nick":"n"}`)}},
		IdempotencyKey: req.str("idem-2"), Now: T0 + 1,
	}
	res := make([]identity.ResolveResult, 2)
	if err := s.Resolve(ctx(t), []identity.ResolveOp{create, link}, res); err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("resolve: %v %v %v", err, res[0].Err, res[1].Err)
	}
	if err := s.ConfirmIdempotency(ctx(t), []string{req.str("idem-2")}, []string{req.str(ticket)}, time.Hour); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	key := canonical.APIKey{Hash: req.str("hash-1"), Prefix: req.str("sk_live_"), Name: req.str("server"),
		Scopes: []string{req.str("ingest")}, AllowedOrigins: []string{req.str("https://a.example")}, CreatedAt: T0}
	if err := s.PutAPIKey(ctx(t), key); err != nil {
		t.Fatalf("put api key: %v", err)
	}
	want := res[1].Contact
	req.scrub()

	const props = `{"discord":{"id":"d1","nick":"n"},"first":["a",1],"plan":"pro","telegram":{"not-an-object"}}`
	equal(t, "properties", string(want.Properties), props)
	for _, got := range [][]canonical.Contact{find(t, s, "ann@example.com", ""), find(t, s, "", "user-1")} {
		if len(got) != 1 {
			t.Fatalf("find after the buffer was overwritten: %d contacts", len(got))
		}
		equal(t, "contact", got[0], want)
		equal(t, "columns", []string{got[0].ExternalID, got[0].Email, got[0].AnonymousID, got[0].Source},
			[]string{"user-1", "ann@example.com", "anon-1", "posthog"})
	}
	byAnon := resolve1(t, s, identity.ResolveOp{Keys: []identity.Key{anon("anon-1")}, NoCreate: true, Now: T0 + 2})
	equal(t, "anonymous key", byAnon.Contact.ID, want.ID)
	claims := resolve(t, s, identity.ResolveOp{ClaimOnly: true, IdempotencyKey: "idem-1", Now: T0 + 3},
		identity.ResolveOp{ClaimOnly: true, IdempotencyKey: "idem-2", Now: T0 + 3})
	equal(t, "claims held", flags(claims[0])+" "+flags(claims[1]), "duplicate duplicate")
	got, ok, err := s.APIKey(ctx(t), "hash-1")
	if err != nil || !ok {
		t.Fatalf("api key after the buffer was overwritten: %v %v", ok, err)
	}
	equal(t, "api key", got, canonical.APIKey{Hash: "hash-1", Prefix: "sk_live_", Name: "server",
		Scopes: []string{"ingest"}, AllowedOrigins: []string{"https://a.example"}, CreatedAt: T0})
}

func testCopiesRestore(t *testing.T, s identity.Store) {
	req := newRequestBuffer()
	id := uuid.Must(uuid.NewV7())
	row := canonical.Contact{ID: id, ExternalID: req.str("user-2"), Email: req.str("bo@example.com"),
		AnonymousID: req.str("anon-2"), Source: req.str("api"), Properties: req.bytes(`{"plan":"team","discord":{"id":"d2"}}`),
		FirstSeenAt: T0, LastSeenAt: T0, CreatedAt: T0, UpdatedAt: T0, Version: 3}
	snap := canonical.Snapshot{
		Contacts: []canonical.Contact{row},
		Aliases: []canonical.Alias{{Kind: req.str("anonymous"), Value: req.str("anon-3"), ContactID: id,
			Reason: req.str("promote"), Version: 3, At: T0}},
		APIKeys: []canonical.APIKey{{Hash: req.str("hash-2"), Prefix: req.str("pk_live_"), Name: req.str("web"),
			Scopes: []string{req.str("capture")}, CreatedAt: T0}},
		Idempotency: []canonical.IdempotencyClaim{{Key: req.str("idem-3"), ExpiresAt: time.Now().Add(time.Hour).UnixMilli()}},
	}
	if err := s.Restore(ctx(t), snap); err != nil {
		t.Fatalf("restore: %v", err)
	}
	req.scrub()

	got := find(t, s, "bo@example.com", "user-2")
	if len(got) != 1 {
		t.Fatalf("find after the buffer was overwritten: %d contacts", len(got))
	}
	c := got[0]
	equal(t, "columns", []string{c.ExternalID, c.Email, c.AnonymousID, c.Source},
		[]string{"user-2", "bo@example.com", "anon-2", "api"})
	equal(t, "properties", string(c.Properties), `{"discord":{"id":"d2"},"plan":"team"}`)
	for _, k := range []string{"anon-2", "anon-3"} {
		r := resolve1(t, s, identity.ResolveOp{Keys: []identity.Key{anon(k)}, NoCreate: true, Now: T0 + 1})
		equal(t, "anonymous key "+k, r.Contact.ID, id)
	}
	claim := resolve1(t, s, identity.ResolveOp{ClaimOnly: true, IdempotencyKey: "idem-3", Now: T0 + 1})
	equal(t, "claim held", flags(claim), "duplicate")
	key, ok, err := s.APIKey(ctx(t), "hash-2")
	if err != nil || !ok {
		t.Fatalf("api key after the buffer was overwritten: %v %v", ok, err)
	}
	if want := (canonical.APIKey{Hash: "hash-2", Prefix: "pk_live_", Name: "web", Scopes: []string{"capture"}, CreatedAt: T0}); !reflect.DeepEqual(key, want) {
		t.Errorf("api key: %+v, want %+v", key, want)
	}
}
