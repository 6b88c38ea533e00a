package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/sinks/engine"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// EngineDeadLetter is the hand-off's dead-letter row (engine_dead_letters).
type EngineDeadLetter = engine.DeadLetter

func appendEngineDeadTSV(b []byte, d *EngineDeadLetter, ms bool) []byte {
	b = canonical.AppendUUID(b, d.Call)
	b = appendTSVUint(append(b, '\t'), uint64(d.Kind))
	b = canonical.AppendUUID(append(b, '\t'), d.ContactID)
	b = appendTSVString(append(b, '\t'), d.Method)
	b = appendTSVString(append(b, '\t'), d.Path)
	b = appendTSVString(append(b, '\t'), d.IdempotencyKey)
	b = appendTSVBytes(append(b, '\t'), d.Body)
	b = appendTSVUint(append(b, '\t'), uint64(d.Status))
	b = appendTSVBytes(append(b, '\t'), d.Answer)
	b = appendTSVTime(append(b, '\t'), d.FailedAt, ms)
	b = appendTSVTime(append(b, '\t'), d.ReplayedAt, ms)
	return appendTSVUint(append(b, '\t'), d.Version)
}

// InsertEngineDeadLetters inserts rows into engine_dead_letters.
func (e *Embedded) InsertEngineDeadLetters(ctx context.Context, rows []EngineDeadLetter) error {
	ms := e.feat.DateTime64
	return e.insert(ctx, tableEngineDead, engineDeadColumns, len(rows), func(b []byte, i int) []byte {
		return appendEngineDeadTSV(b, &rows[i], ms)
	})
}

// InsertEngineDeadLetters inserts rows into engine_dead_letters.
func (s *Server) InsertEngineDeadLetters(ctx context.Context, rows []EngineDeadLetter) error {
	if len(rows) == 0 {
		return nil
	}
	return s.insertColumns(ctx, tableEngineDead, engineDeadColumns, func([]string) ([]any, error) {
		n := len(rows)
		call, contact := make([]uuid.UUID, n), make([]uuid.UUID, n)
		kind, status := make([]uint8, n), make([]uint16, n)
		method, path, key, body, answer := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		failed, replayed := make([]time.Time, n), make([]time.Time, n)
		version := make([]uint64, n)
		for i := range rows {
			d := &rows[i]
			call[i], kind[i], contact[i], method[i], path[i] = d.Call, d.Kind, d.ContactID, d.Method, d.Path
			key[i], body[i], status[i], answer[i] = d.IdempotencyKey, string(d.Body), uint16(d.Status), string(d.Answer)
			failed[i], replayed[i], version[i] = storedTime(d.FailedAt), storedTime(d.ReplayedAt), d.Version
		}
		return []any{call, kind, contact, method, path, key, body, status, answer, failed, replayed, version}, nil
	})
}

// LoadEngineDeadLetters reads the dead letters not yet replayed, oldest
// first.
func (e *Embedded) LoadEngineDeadLetters(ctx context.Context) ([]EngineDeadLetter, error) {
	return loadEngineDeadLetters(ctx, e, e.db, e.feat)
}

// LoadEngineDeadLetters reads the dead letters not yet replayed, oldest
// first.
func (s *Server) LoadEngineDeadLetters(ctx context.Context) ([]EngineDeadLetter, error) {
	f, err := s.features(ctx)
	if err != nil {
		return nil, err
	}
	return loadEngineDeadLetters(ctx, s, s.db, f)
}

func loadEngineDeadLetters(ctx context.Context, r runner, db string, f features) ([]EngineDeadLetter, error) {
	q := fmt.Sprintf(`SELECT call_id, kind, contact_id, method, path, idempotency_key, body, status, answer, %s, version
FROM %s.engine_dead_letters FINAL WHERE replayed_at = toDateTime(0) ORDER BY failed_at, call_id`, f.millis("failed_at"), db)
	var out []EngineDeadLetter
	err := r.queryRows(ctx, q, func(row []string) error {
		p := fieldParser{row: row}
		out = append(out, EngineDeadLetter{
			Call: p.uuid(0), Kind: uint8(p.uint(1)), ContactID: p.uuid(2), Method: row[3], Path: row[4],
			IdempotencyKey: row[5], Body: []byte(row[6]), Status: int(p.uint(7)), Answer: []byte(row[8]),
			FailedAt: p.int(9), Version: p.uint(10),
		})
		return p.err
	})
	if err != nil {
		return nil, fmt.Errorf("load engine dead letters: %w", err)
	}
	return out, nil
}
