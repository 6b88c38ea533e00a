package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// The conversion rows are the conversions package's domain types; the
// aliases keep the Backend's signatures short.
type (
	Click                = conversions.Click
	Dispatch             = conversions.Dispatch
	ConversionDeadLetter = conversions.ConversionDeadLetter
	ContactFacts         = conversions.ContactFacts
)

func appendClickTSV(b []byte, c *Click, ms bool) []byte {
	b = canonical.AppendUUID(b, c.ContactID)
	b = appendTSVString(append(b, '\t'), c.Kind)
	b = appendTSVString(append(b, '\t'), c.Value)
	b = appendTSVTime(append(b, '\t'), c.At, ms)
	return canonical.AppendUUID(append(b, '\t'), c.EventID)
}

func appendDispatchTSV(b []byte, d *Dispatch, ms bool) []byte {
	b = appendTSVTime(b, d.At, ms)
	b = appendTSVString(append(b, '\t'), d.Destination)
	b = appendTSVString(append(b, '\t'), d.DedupID)
	b = appendTSVString(append(b, '\t'), d.RuleID)
	b = canonical.AppendUUID(append(b, '\t'), d.EventID)
	b = canonical.AppendUUID(append(b, '\t'), d.ContactID)
	b = appendTSVString(append(b, '\t'), d.EventName)
	b = appendTSVString(append(b, '\t'), d.Status)
	b = appendTSVUint(append(b, '\t'), uint64(d.Attempts))
	b = appendTSVUint(append(b, '\t'), uint64(d.HTTPStatus))
	b = appendTSVString(append(b, '\t'), d.LastError)
	return appendTSVUint(append(b, '\t'), uint64(d.LatencyMs))
}

func appendConvDeadTSV(b []byte, d *ConversionDeadLetter, ms bool) []byte {
	b = appendTSVString(b, d.Destination)
	b = appendTSVString(append(b, '\t'), d.DedupID)
	b = appendTSVBytes(append(b, '\t'), d.Conversion)
	b = appendTSVString(append(b, '\t'), d.Reason)
	b = appendTSVTime(append(b, '\t'), d.FailedAt, ms)
	b = appendTSVTime(append(b, '\t'), d.ReplayedAt, ms)
	return appendTSVUint(append(b, '\t'), d.Version)
}

// InsertClicks inserts rows into contact_clicks.
func (e *Embedded) InsertClicks(ctx context.Context, rows []Click) error {
	ms := e.feat.DateTime64
	return e.insert(ctx, tableClicks, clickColumns, len(rows), func(b []byte, i int) []byte {
		return appendClickTSV(b, &rows[i], ms)
	})
}

// InsertDispatches inserts rows into conversion_dispatches.
func (e *Embedded) InsertDispatches(ctx context.Context, rows []Dispatch) error {
	ms := e.feat.DateTime64
	return e.insert(ctx, tableDispatches, dispatchColumns, len(rows), func(b []byte, i int) []byte {
		return appendDispatchTSV(b, &rows[i], ms)
	})
}

// InsertConversionDeadLetters inserts rows into conversion_dead_letters.
func (e *Embedded) InsertConversionDeadLetters(ctx context.Context, rows []ConversionDeadLetter) error {
	ms := e.feat.DateTime64
	return e.insert(ctx, tableConvDead, convDeadColumns, len(rows), func(b []byte, i int) []byte {
		return appendConvDeadTSV(b, &rows[i], ms)
	})
}

// InsertClicks inserts rows into contact_clicks.
func (s *Server) InsertClicks(ctx context.Context, rows []Click) error {
	if len(rows) == 0 {
		return nil
	}
	return s.insertColumns(ctx, tableClicks, clickColumns, func([]string) ([]any, error) {
		n := len(rows)
		contact, event := make([]uuid.UUID, n), make([]uuid.UUID, n)
		kind, value := make([]string, n), make([]string, n)
		at := make([]time.Time, n)
		for i := range rows {
			c := &rows[i]
			contact[i], kind[i], value[i], at[i], event[i] = c.ContactID, c.Kind, c.Value, storedTime(c.At), c.EventID
		}
		return []any{contact, kind, value, at, event}, nil
	})
}

// InsertDispatches inserts rows into conversion_dispatches.
func (s *Server) InsertDispatches(ctx context.Context, rows []Dispatch) error {
	if len(rows) == 0 {
		return nil
	}
	return s.insertColumns(ctx, tableDispatches, dispatchColumns, func([]string) ([]any, error) {
		n := len(rows)
		at := make([]time.Time, n)
		dest, dedup, rule, name, status, lastErr := make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n)
		event, contact := make([]uuid.UUID, n), make([]uuid.UUID, n)
		attempts, latency := make([]uint32, n), make([]uint32, n)
		httpStatus := make([]uint16, n)
		for i := range rows {
			d := &rows[i]
			at[i], dest[i], dedup[i], rule[i], event[i], contact[i] = storedTime(d.At), d.Destination, d.DedupID, d.RuleID, d.EventID, d.ContactID
			name[i], status[i], attempts[i], httpStatus[i], lastErr[i], latency[i] = d.EventName, d.Status, d.Attempts, d.HTTPStatus, d.LastError, d.LatencyMs
		}
		return []any{at, dest, dedup, rule, event, contact, name, status, attempts, httpStatus, lastErr, latency}, nil
	})
}

// InsertConversionDeadLetters inserts rows into conversion_dead_letters.
func (s *Server) InsertConversionDeadLetters(ctx context.Context, rows []ConversionDeadLetter) error {
	if len(rows) == 0 {
		return nil
	}
	return s.insertColumns(ctx, tableConvDead, convDeadColumns, func([]string) ([]any, error) {
		n := len(rows)
		dest, dedup, conv, reason := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		failed, replayed := make([]time.Time, n), make([]time.Time, n)
		version := make([]uint64, n)
		for i := range rows {
			d := &rows[i]
			dest[i], dedup[i], conv[i], reason[i] = d.Destination, d.DedupID, string(d.Conversion), d.Reason
			failed[i], replayed[i], version[i] = storedTime(d.FailedAt), storedTime(d.ReplayedAt), d.Version
		}
		return []any{dest, dedup, conv, reason, failed, replayed, version}, nil
	})
}

// LoadContactFacts reads the latest row of each contact and the contacts
// merged into it, in two queries whatever the number of contacts.
func (e *Embedded) LoadContactFacts(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]*ContactFacts, error) {
	return loadContactFacts(ctx, e, e.db, ids)
}

// LoadContactFacts reads the latest row of each contact and the contacts
// merged into it, in two queries whatever the number of contacts.
func (s *Server) LoadContactFacts(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]*ContactFacts, error) {
	return loadContactFacts(ctx, s, s.db, ids)
}

// LoadRecentClicks reads the clicks of contacts at or after since and at or
// before until (Unix ms), newest first.
func (e *Embedded) LoadRecentClicks(ctx context.Context, contacts []uuid.UUID, since, until int64) ([]Click, error) {
	return loadRecentClicks(ctx, e, e.db, e.feat, contacts, since, until)
}

// LoadRecentClicks reads the clicks of contacts at or after since and at or
// before until (Unix ms), newest first.
func (s *Server) LoadRecentClicks(ctx context.Context, contacts []uuid.UUID, since, until int64) ([]Click, error) {
	f, err := s.features(ctx)
	if err != nil {
		return nil, err
	}
	return loadRecentClicks(ctx, s, s.db, f, contacts, since, until)
}

// LoadConversionDeadLetters reads the dead letters not yet replayed, of one
// destination or ("" ) of all.
func (e *Embedded) LoadConversionDeadLetters(ctx context.Context, destination string) ([]ConversionDeadLetter, error) {
	return loadConversionDeadLetters(ctx, e, e.db, e.feat, destination)
}

// LoadConversionDeadLetters reads the dead letters not yet replayed, of one
// destination or ("") of all.
func (s *Server) LoadConversionDeadLetters(ctx context.Context, destination string) ([]ConversionDeadLetter, error) {
	f, err := s.features(ctx)
	if err != nil {
		return nil, err
	}
	return loadConversionDeadLetters(ctx, s, s.db, f, destination)
}

func loadContactFacts(ctx context.Context, r runner, db string, ids []uuid.UUID) (map[uuid.UUID]*ContactFacts, error) {
	out := make(map[uuid.UUID]*ContactFacts, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	for _, id := range ids {
		out[id] = &ContactFacts{ID: id}
	}
	list := uuidList(ids)
	q := fmt.Sprintf(`SELECT id, external_id, email, properties, is_deleted FROM %s.contacts FINAL WHERE id IN (%s)`, db, list)
	err := r.queryRows(ctx, q, func(row []string) error {
		p := fieldParser{row: row}
		f := out[p.uuid(0)]
		if f == nil {
			return p.err
		}
		f.Found = true
		f.ExternalID, f.Email = row[1], row[2]
		f.Properties = []byte(row[3])
		f.Deleted = row[4] == "1"
		return p.err
	})
	if err != nil {
		return nil, fmt.Errorf("load contacts: %w", err)
	}
	q = fmt.Sprintf(`SELECT DISTINCT contact_id, from_contact_id FROM %s.contact_aliases FINAL
WHERE contact_id IN (%s) AND reason = 'merge' AND from_contact_id != toUUID('%s')`, db, list, uuid.Nil)
	err = r.queryRows(ctx, q, func(row []string) error {
		p := fieldParser{row: row}
		if f := out[p.uuid(0)]; f != nil {
			f.Merged = append(f.Merged, p.uuid(1))
		}
		return p.err
	})
	if err != nil {
		return nil, fmt.Errorf("load merged contacts: %w", err)
	}
	return out, nil
}

func uuidList(ids []uuid.UUID) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = "toUUID('" + id.String() + "')"
	}
	return strings.Join(parts, ", ")
}

func loadRecentClicks(ctx context.Context, r runner, db string, f features, contacts []uuid.UUID, since, until int64) ([]Click, error) {
	if len(contacts) == 0 {
		return nil, nil
	}
	floor := since - since%f.precisionMillis()
	// The newest 50 clicks of each kind per contact are plenty to attribute.
	q := fmt.Sprintf(`SELECT contact_id, kind, value, %s AS at, event_id FROM %s.contact_clicks FINAL
WHERE contact_id IN (%s) AND %s >= %d AND %s <= %d
ORDER BY at DESC LIMIT 50 BY contact_id, kind`, f.millis("clicked_at"), db, uuidList(contacts), f.millis("clicked_at"), floor, f.millis("clicked_at"), until)
	var out []Click
	err := r.queryRows(ctx, q, func(row []string) error {
		p := fieldParser{row: row}
		out = append(out, Click{ContactID: p.uuid(0), Kind: row[1], Value: row[2], At: p.int(3), EventID: p.uuid(4)})
		return p.err
	})
	if err != nil {
		return nil, fmt.Errorf("load recent clicks: %w", err)
	}
	return out, nil
}

func loadConversionDeadLetters(ctx context.Context, r runner, db string, f features, destination string) ([]ConversionDeadLetter, error) {
	where := "replayed_at = toDateTime(0)"
	if destination != "" {
		where += " AND destination = " + quoteString(destination)
	}
	q := fmt.Sprintf(`SELECT destination, dedup_id, conversion, reason, %s, version
FROM %s.conversion_dead_letters FINAL WHERE %s ORDER BY failed_at, dedup_id`, f.millis("failed_at"), db, where)
	var out []ConversionDeadLetter
	err := r.queryRows(ctx, q, func(row []string) error {
		p := fieldParser{row: row}
		out = append(out, ConversionDeadLetter{
			Destination: row[0], DedupID: row[1], Conversion: []byte(row[2]), Reason: row[3],
			FailedAt: p.int(4), Version: uint64(p.int(5)),
		})
		return p.err
	})
	if err != nil {
		return nil, fmt.Errorf("load conversion dead letters: %w", err)
	}
	return out, nil
}
