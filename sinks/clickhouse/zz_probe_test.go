package clickhouse

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

func TestZZProbeServer(t *testing.T) {
	s, _ := newTestServer(t)
	ctx := testContext(t)
	for _, v := range []float64{1e12, 1e13, 1e15, 1e16, 9e16, 1e17, 1e300} {
		e := testEvent(int(v) % 1000)
		e.HasValue, e.Value = true, v
		err := s.InsertEvents(ctx, []canonical.Event{e})
		var exc *proto.Exception
		var cce *column.ColumnConverterError
		t.Logf("v=%g err=%v (%T) exc=%v cce=%v", v, err, errors.Unwrap(errors.Unwrap(err)), errors.As(err, &exc), errors.As(err, &cce))
	}
	rows, _ := s.Query(ctx, "SELECT toString(value) FROM user_events")
	t.Logf("rows %v", rows)
	// many partitions
	evs := testEvents(0, 200)
	for i := range evs {
		evs[i].OccurredAt = int64(i) * 40 * 86400 * 1000
	}
	err := s.InsertEvents(ctx, evs)
	var exc *proto.Exception
	if errors.As(err, &exc) {
		t.Logf("partitions: code %d name %s msg %s", exc.Code, exc.Name, exc.Message)
	}
	t.Logf("partitions err=%v", err)
	fmt.Sprint()
}

func TestZZProbeEmbedded(t *testing.T) {
	requireChdb(t)
	e := openEmbedded(t, t.TempDir())
	ctx := testContext(t)
	if err := e.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, v := range []float64{1e12, 1e13, 1e15, 1e17, 1e300} {
		ev := testEvent(int(v) % 1000)
		ev.HasValue, ev.Value = true, v
		err := e.InsertEvents(ctx, []canonical.Event{ev, testEvent(3)})
		t.Logf("v=%g err=%v", v, err)
	}
	rows, _ := e.Query(ctx, "SELECT toString(value) FROM user_events")
	t.Logf("rows %v", rows)
	evs := testEvents(0, 200)
	for i := range evs {
		evs[i].OccurredAt = int64(i) * 40 * 86400 * 1000
	}
	t.Logf("partitions err=%v", e.InsertEvents(ctx, evs))
}
