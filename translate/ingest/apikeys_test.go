package ingest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/apikeys"
)

// TestRevokeAPIKey: revocation reaches the store and the journal; a retry
// after a failed journal write writes the row again with the first
// revocation time; an unknown id is apikeys.ErrNotFound.
func TestRevokeAPIKey(t *testing.T) {
	j := &flakyJournal{}
	in := newTestIngestor(j)
	defer in.Close()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	in.now = func() time.Time { return now }
	ctx := context.Background()
	_, rec, err := in.CreateAPIKey(ctx, "k", []string{"ingest"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	j.fail = 1
	if _, err := in.RevokeAPIKey(ctx, apikeys.ID(&rec)); !errors.Is(err, ErrNotDurable) {
		t.Fatalf("revoke with a failing journal: %v, want ErrNotDurable", err)
	}
	now = now.Add(time.Minute)
	k, err := in.RevokeAPIKey(ctx, apikeys.ID(&rec))
	if err != nil {
		t.Fatal(err)
	}
	want := now.Add(-time.Minute).UnixMilli()
	if k.RevokedAt != want || k.Hash != rec.Hash {
		t.Fatalf("revoked key %+v, want RevokedAt %d", k, want)
	}
	stored, _, _ := in.APIKey(ctx, rec.Hash)
	if stored.RevokedAt != want {
		t.Fatalf("store holds RevokedAt %d, want %d", stored.RevokedAt, want)
	}
	last := j.batches[len(j.batches)-1]
	if len(j.batches) != 2 || len(last.APIKeys) != 1 || last.APIKeys[0].RevokedAt != want {
		t.Fatalf("journal: %d batches, last %+v; want the creation and the revocation", len(j.batches), last.APIKeys)
	}
	if _, err := in.RevokeAPIKey(ctx, "0123456789abcdef"); !errors.Is(err, apikeys.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	keys, err := in.ListAPIKeys(ctx)
	if err != nil || len(keys) != 1 || keys[0].RevokedAt != want {
		t.Fatalf("list = %+v, %v", keys, err)
	}
}
