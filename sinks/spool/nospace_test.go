package spool

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/testenv"
)

// TestDiskFullIsTransient: a full disk refuses appends like the byte cap
// (ErrFull, nothing partial), keeps the spool healthy, and appends succeed
// again once space is freed.
func TestDiskFullIsTransient(t *testing.T) {
	fs := testenv.MountTmpfs(t, "512k")
	s, _ := openTest(t, Options{Dir: filepath.Join(fs, "spool"), SegmentBytes: 64 << 10, Consumers: []string{"c"}})
	ctx := context.Background()
	payload := bytes.Repeat([]byte("x"), 3000)
	if _, err := s.Append(ctx, payload); err != nil {
		t.Fatal(err)
	}
	// Fill the rest of the disk.
	filler, err := os.Create(filepath.Join(fs, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := filler.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			break
		}
	}
	filler.Close()
	var fullErr error
	for i := 0; i < 50 && fullErr == nil; i++ {
		_, fullErr = s.Append(ctx, payload)
	}
	if !errors.Is(fullErr, ErrFull) || !errors.Is(fullErr, syscall.ENOSPC) {
		t.Fatalf("append on a full disk = %v, want ErrFull wrapping ENOSPC", fullErr)
	}
	if err := s.Healthy(); err != nil {
		t.Fatalf("spool unhealthy after a full disk: %v", err)
	}
	stored := s.Stats().Appends
	os.Remove(filepath.Join(fs, "filler"))
	if _, err := s.Append(ctx, payload); err != nil {
		t.Fatalf("append after freeing space: %v", err)
	}
	// Exactly the acknowledged payloads are readable, each whole.
	r, err := s.Reader("c")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got int
	for got < int(stored)+1 {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		es, err := r.Next(cctx, 100, nil)
		cancel()
		if err != nil {
			t.Fatalf("read after %d entries: %v", got, err)
		}
		for _, e := range es {
			if !bytes.Equal(e.Data, payload) {
				t.Fatalf("entry %d is not a whole payload (%d bytes)", got, len(e.Data))
			}
			got++
		}
	}
	if b := r.Backlog(); b <= 0 {
		t.Fatalf("backlog = %d", b)
	}
}
