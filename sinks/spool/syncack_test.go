package spool

import (
	"context"
	"os"
	"sync/atomic"
	"testing"
)

// TestAppendReturnsAfterItsSync: Append, which the proxy waits for before
// any 2xx, does not return while the fsync of its bytes is stalled, and
// returns only after that fsync has; readers see nothing of it before.
func TestAppendReturnsAfterItsSync(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var synced atomic.Bool
	h := &hooks{syncData: func(f *os.File) error {
		entered <- struct{}{}
		<-release
		err := f.Sync()
		synced.Store(true)
		return err
	}}
	s, _ := openTest(t, Options{Consumers: []string{"c"}, hooks: h})
	r, err := s.Reader("c")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	returned := make(chan bool, 1) // whether the fsync had returned when Append did
	go func() {
		if _, err := s.Append(context.Background(), []byte("ack")); err != nil {
			t.Errorf("Append: %v", err)
		}
		returned <- synced.Load()
	}()
	<-entered
	select {
	case <-returned:
		t.Fatal("Append returned while its fsync was stalled")
	default:
	}
	if b := r.Backlog(); b != 0 {
		t.Fatalf("reader backlog %d while the fsync is stalled, want 0: readers must not see bytes before they are durable", b)
	}
	if st := s.Stats(); st.Appends != 0 {
		t.Fatalf("Stats.Appends = %d before the fsync returned", st.Appends)
	}
	close(release)
	if !<-returned {
		t.Fatal("Append returned before its fsync did")
	}
	if got := readN(t, r, 1); string(got[0].Data) != "ack" {
		t.Fatalf("read %q, want ack", got[0].Data)
	}
}
