package canonical

import (
	"testing"

	"github.com/google/uuid"
)

func TestAppendUUID(t *testing.T) {
	for _, id := range []uuid.UUID{uuid.Nil, uuid.Max, uuid.MustParse("0192f0c4-7a1b-7c3d-8e4f-a0b1c2d3e4f5"), uuid.New()} {
		if got := string(AppendUUID([]byte("k:"), id)); got != "k:"+id.String() {
			t.Errorf("AppendUUID(%s) = %q", id, got)
		}
	}
	id := uuid.New()
	buf := make([]byte, 0, 64)
	if allocs := testing.AllocsPerRun(100, func() { buf = AppendUUID(buf[:0], id) }); allocs != 0 {
		t.Errorf("%v allocations with room in dst, want 0", allocs)
	}
}
