// Package identitytest is the conformance suite every identity.Store must pass.
// memory_test.go and redis_test.go run it; a new implementation runs it too.
package identitytest

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/identity"
)

// Run runs the suite; newStore returns an empty store (closing it is the
// caller's business, via t.Cleanup).
func Run(t *testing.T, newStore func(t *testing.T) identity.Store) {
	cases := []struct {
		name string
		fn   func(t *testing.T, newStore func(t *testing.T) identity.Store)
	}{
		{"Create", testCreate},
		{"FillInLink", testFillInLink},
		{"PrimaryEmailKept", testPrimaryEmailKept},
		{"ClaimRefused", testClaimRefused},
		{"UUIDExternalKey", testUUIDExternalKey},
		{"MergeSurvivorRule", testMergeSurvivorRule},
		{"MergeAliases", testMergeAliases},
		{"MergeIdentityColumns", testMergeIdentityColumns},
		{"MergeProperties", testMergeProperties},
		{"PropertyPatch", testPropertyPatch},
		{"LargeMerges", testLargeMerges},
		{"NestedRepeatedKey", testNestedRepeatedKey},
		{"CopiesRequestBytes", testCopiesRequestBytes},
		{"Find", testFind},
		{"Delete", testDelete},
		{"NoCreate", testNoCreate},
		{"RefuseIdentified", testRefuseIdentified},
		{"Idempotency", withKeys(testIdempotency, plainKeys)},
		{"IdempotencyWindow", withKeys(testIdempotencyWindow, plainKeys)},
		{"PendingClaims", withKeys(testPendingClaims, plainKeys)},
		{"ClaimTickets", withKeys(testClaimTickets, plainKeys)},
		{"ClaimOnly", withKeys(testClaimOnly, plainKeys)},
		// The same with PostHog UUIDv7 keys, which Redis keeps in buckets.
		{"IdempotencyUUIDv7", withKeys(testIdempotency, postHogKeys)},
		{"IdempotencyWindowUUIDv7", withKeys(testIdempotencyWindow, postHogKeys)},
		{"PendingClaimsUUIDv7", withKeys(testPendingClaims, postHogKeys)},
		{"ClaimTicketsUUIDv7", withKeys(testClaimTickets, postHogKeys)},
		{"ClaimOnlyUUIDv7", withKeys(testClaimOnly, postHogKeys)},
		{"Versions", testVersions},
		{"Batch", testBatch},
		{"APIKeys", testAPIKeys},
		{"APIKeyList", testAPIKeyList},
		{"APIKeyRestoreKeepsRevocation", testAPIKeyRestoreKeepsRevocation},
		{"Restore", testRestore},
		{"RestoreVersionChecks", testRestoreVersionChecks},
		{"ConcurrentCreate", testConcurrentCreate},
		{"ConcurrentMerge", testConcurrentMerge},
		{"ConcurrentMixedKeys", testConcurrentMixedKeys},
		{"PostHogIdentity", testPostHogIdentity},
		{"PostHogUnset", testPostHogUnset},
		{"PostHogValidation", testPostHogValidation},
		{"PostHogIdempotencyAndVersions", testPostHogIdempotencyAndVersions},
		{"PostHogRestore", testPostHogRestore},
		{"PostHogConcurrentIdentify", testPostHogConcurrentIdentify},
		{"PostHogConcurrentMixed", testPostHogConcurrentMixed},
		{"Trust", testTrust},
		{"TrustValidation", testTrustValidation},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newStore) })
	}
}

// T0 is the base request time of the suite (Unix ms).
const T0 = int64(1_700_000_000_000)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func ext(v string) identity.Key  { return identity.Key{Kind: canonical.KindExternal, Value: v} }
func mail(v string) identity.Key { return identity.Key{Kind: canonical.KindEmail, Value: v} }
func anon(v string) identity.Key { return identity.Key{Kind: canonical.KindAnonymous, Value: v} }

func set(name, raw string) identity.Prop {
	if raw == "" {
		return identity.Prop{Name: name}
	}
	return identity.Prop{Name: name, Value: []byte(raw)}
}

// op builds a create-capable op at time now with a fresh NewID.
func op(now int64, keys ...identity.Key) identity.ResolveOp {
	return identity.ResolveOp{Keys: keys, NewID: uuid.Must(uuid.NewV7()), Now: now}
}

// withID sets the id a created contact gets (survivor tie-break tests).
func withID(o identity.ResolveOp, id string) identity.ResolveOp {
	o.NewID = uuid.MustParse(id)
	return o
}

func withSet(o identity.ResolveOp, ps ...identity.Prop) identity.ResolveOp {
	o.Set = append(o.Set, ps...)
	return o
}

func withOnce(o identity.ResolveOp, ps ...identity.Prop) identity.ResolveOp {
	o.SetOnce = append(o.SetOnce, ps...)
	return o
}

func withIdem(o identity.ResolveOp, key string, window time.Duration) identity.ResolveOp {
	o.IdempotencyKey, o.IdempotencyWindow = key, window
	return o
}

// resolve runs ops in one call and fails on any error.
func resolve(t *testing.T, s identity.Store, ops ...identity.ResolveOp) []identity.ResolveResult {
	t.Helper()
	res := make([]identity.ResolveResult, len(ops))
	if err := s.Resolve(ctx(t), ops, res); err != nil {
		t.Fatalf("resolve: %v", err)
	}
	var claimed []string
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("resolve op %d: %v", i, r.Err)
		}
		if k := ops[i].IdempotencyKey; k != "" && !r.Duplicate && !r.ClaimPending && !r.Refused {
			claimed = append(claimed, k)
		}
	}
	// As the ingestor does once the records are durable.
	if err := s.ConfirmIdempotency(ctx(t), claimed, nil, ops[0].IdempotencyWindow); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	return res
}

func resolve1(t *testing.T, s identity.Store, o identity.ResolveOp) identity.ResolveResult {
	t.Helper()
	return resolve(t, s, o)[0]
}

func find(t *testing.T, s identity.Store, email, userID string) []canonical.Contact {
	t.Helper()
	cs, err := s.Find(ctx(t), email, userID)
	if err != nil {
		t.Fatalf("find(%q, %q): %v", email, userID, err)
	}
	return cs
}

// ids lists contact ids, for comparing Find results and losers.
func ids(cs []canonical.Contact) []uuid.UUID {
	out := make([]uuid.UUID, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func flags(r identity.ResolveResult) string {
	var b strings.Builder
	for _, f := range []struct {
		on   bool
		name string
	}{{r.Found, "found"}, {r.Created, "created"}, {r.Linked, "linked"}, {r.Merged, "merged"}, {r.Duplicate, "duplicate"}, {r.ClaimPending, "pending"}, {r.Refused, "refused"}, {r.MergeRefused, "mergeRefused"}, {r.Unproven, "unproven"}} {
		if f.on {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(f.name)
		}
	}
	return b.String()
}

// alias builds an expected alias row.
func alias(kind, value string, to, from uuid.UUID, reason string, v uint64, at int64) canonical.Alias {
	return canonical.Alias{Kind: kind, Value: value, ContactID: to, FromContactID: from, Reason: reason, Version: v, At: at}
}
