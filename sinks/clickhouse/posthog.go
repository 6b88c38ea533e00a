package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/hogsend/hogsend-proxy/sinks/posthog"
)

// PostHogDeadLetter is the mirror's dead-letter row (posthog_dead_letters).
type PostHogDeadLetter = posthog.DeadLetter

func appendPostHogDeadTSV(b []byte, d *PostHogDeadLetter, ms bool) []byte {
	b = appendTSVString(b, d.UUID)
	b = appendTSVString(append(b, '\t'), d.Token)
	b = appendTSVUint(append(b, '\t'), boolUint(d.Historical))
	b = appendTSVBytes(append(b, '\t'), d.Event)
	b = appendTSVUint(append(b, '\t'), uint64(d.Status))
	b = appendTSVBytes(append(b, '\t'), d.Answer)
	b = appendTSVTime(append(b, '\t'), d.FailedAt, ms)
	b = appendTSVTime(append(b, '\t'), d.ReplayedAt, ms)
	return appendTSVUint(append(b, '\t'), d.Version)
}

func boolUint(v bool) uint64 {
	if v {
		return 1
	}
	return 0
}

// InsertPostHogDeadLetters inserts rows into posthog_dead_letters.
func (e *Embedded) InsertPostHogDeadLetters(ctx context.Context, rows []PostHogDeadLetter) error {
	ms := e.feat.DateTime64
	return e.insert(ctx, tablePostHogDead, posthogDeadColumns, len(rows), func(b []byte, i int) []byte {
		return appendPostHogDeadTSV(b, &rows[i], ms)
	})
}

// InsertPostHogDeadLetters inserts rows into posthog_dead_letters.
func (s *Server) InsertPostHogDeadLetters(ctx context.Context, rows []PostHogDeadLetter) error {
	if len(rows) == 0 {
		return nil
	}
	return s.insertColumns(ctx, tablePostHogDead, posthogDeadColumns, func([]string) ([]any, error) {
		n := len(rows)
		id, token, event, answer := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		historical, status := make([]uint8, n), make([]uint16, n)
		failed, replayed := make([]time.Time, n), make([]time.Time, n)
		version := make([]uint64, n)
		for i := range rows {
			d := &rows[i]
			id[i], token[i], historical[i], event[i] = d.UUID, d.Token, uint8(boolUint(d.Historical)), string(d.Event)
			status[i], answer[i] = uint16(d.Status), string(d.Answer)
			failed[i], replayed[i], version[i] = storedTime(d.FailedAt), storedTime(d.ReplayedAt), d.Version
		}
		return []any{id, token, historical, event, status, answer, failed, replayed, version}, nil
	})
}

// LoadPostHogDeadLetters reads the dead letters not yet replayed, oldest
// first.
func (e *Embedded) LoadPostHogDeadLetters(ctx context.Context) ([]PostHogDeadLetter, error) {
	return loadPostHogDeadLetters(ctx, e, e.db, e.feat)
}

// LoadPostHogDeadLetters reads the dead letters not yet replayed, oldest
// first.
func (s *Server) LoadPostHogDeadLetters(ctx context.Context) ([]PostHogDeadLetter, error) {
	f, err := s.features(ctx)
	if err != nil {
		return nil, err
	}
	return loadPostHogDeadLetters(ctx, s, s.db, f)
}

func loadPostHogDeadLetters(ctx context.Context, r runner, db string, f features) ([]PostHogDeadLetter, error) {
	q := fmt.Sprintf(`SELECT uuid, token, historical, event, status, answer, %s, version
FROM %s.posthog_dead_letters FINAL WHERE replayed_at = toDateTime(0) ORDER BY failed_at, uuid`, f.millis("failed_at"), db)
	var out []PostHogDeadLetter
	err := r.queryRows(ctx, q, func(row []string) error {
		p := fieldParser{row: row}
		out = append(out, PostHogDeadLetter{
			UUID: row[0], Token: row[1], Historical: p.uint(2) == 1, Event: []byte(row[3]), Status: int(p.uint(4)),
			Answer: []byte(row[5]), FailedAt: p.int(6), Version: p.uint(7),
		})
		return p.err
	})
	if err != nil {
		return nil, fmt.Errorf("load posthog dead letters: %w", err)
	}
	return out, nil
}
