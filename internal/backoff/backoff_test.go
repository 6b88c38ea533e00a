package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("a full wait: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled wait: %v, want context.Canceled", err)
	}
}

func TestJitteredGrowsWithCap(t *testing.T) {
	for n := 0; n < 12; n++ {
		want := min(time.Second<<n, time.Minute)
		for range 50 {
			got := Jittered(time.Second, time.Minute, n)
			if got < want/2 || got > want {
				t.Fatalf("round %d = %v, want within [%v, %v]", n, got, want/2, want)
			}
		}
	}
}
