package posthog

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/klauspost/compress/gzip"

	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/jsontext"
)

// batch is events of one project token and one historical flag, on their
// way as one /batch/ request, with the spool entries they came from.
type batch struct {
	token      string
	historical bool
	events     []Event
	entries    []*spool.WindowEntry // one per event
	bytes      int
}

// key groups events into batches: PostHog takes one token and one
// historical_migration flag per request.
type batchKey struct {
	token      string
	historical bool
}

func (b *batch) add(e Event, en *spool.WindowEntry) {
	b.events = append(b.events, e)
	b.entries = append(b.entries, en)
	b.bytes += len(e.JSON) + 1
}

// gzipPool reuses gzip writers: a new one allocates its window and tables.
type gzipPool struct{ p sync.Pool }

func (g *gzipPool) get() *gzip.Writer {
	if zw, ok := g.p.Get().(*gzip.Writer); ok {
		return zw
	}
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level: no error
	return zw
}

// body is the gzip /batch/ body of events.
func (g *gzipPool) body(token string, historical bool, events []Event) ([]byte, error) {
	size := 64 + len(token)
	for i := range events {
		size += len(events[i].JSON) + 1
	}
	raw := make([]byte, 0, size)
	raw = append(raw, `{"api_key":`...)
	raw = jsontext.AppendString(raw, token)
	if historical {
		raw = append(raw, `,"historical_migration":true`...)
	}
	raw = append(raw, `,"batch":[`...)
	for i := range events {
		if i > 0 {
			raw = append(raw, ',')
		}
		raw = append(raw, events[i].JSON...)
	}
	raw = append(raw, "]}"...)
	var out bytes.Buffer
	out.Grow(len(raw)/4 + 64)
	zw := g.get()
	defer g.p.Put(zw)
	zw.Reset(&out)
	if _, err := zw.Write(raw); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return out.Bytes(), nil
}
