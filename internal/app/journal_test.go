package app

import (
	"context"
	"errors"
	"testing"

	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/ingest"
)

// TestSpoolJournalTooLarge: a payload over the spool's entry size reaches
// ingestion as ErrTooLargeToStore (413) with the spool's cause; one that
// fits is appended.
func TestSpoolJournalTooLarge(t *testing.T) {
	sp, err := spool.Open(spool.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	j := spoolJournal{sp}
	err = j.Append(context.Background(), make([]byte, spool.MaxPayloadBytes+1))
	if !errors.Is(err, ingest.ErrTooLargeToStore) || !errors.Is(err, spool.ErrTooLarge) || ingest.IsUnavailable(err) {
		t.Fatalf("oversized append = %v, want ErrTooLargeToStore wrapping spool.ErrTooLarge", err)
	}
	if err := j.Append(context.Background(), []byte("fits")); err != nil {
		t.Fatalf("append = %v", err)
	}
	if got := sp.Stats(); got.Appends != 1 {
		t.Fatalf("spool appends = %d, want 1 (the oversized payload is not one)", got.Appends)
	}
}
