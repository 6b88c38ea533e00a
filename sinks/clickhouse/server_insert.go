package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// Inserts use one native INSERT per call with whole columns appended at once
// (no per-row reflection), and the explicit column list 18.16 requires.

// insertColumns sends one INSERT of the given columns, in blocks (see
// insertBlockBytes). build receives the prepared batch's column types (e.g.
// to pick the value column's Go type) and returns one slice per column, or
// a refusedError for a value no column type can hold.
func (s *Server) insertColumns(ctx context.Context, table string, cols []string, build func(types []string) ([]any, error)) error {
	batch, err := s.conn.PrepareBatch(ctx, insertPrefix(s.db, table, cols))
	if err != nil {
		return fmt.Errorf("insert into %s.%s: prepare: %w", s.db, table, err)
	}
	defer batch.Close()
	bcols := batch.Columns()
	types := make([]string, len(bcols))
	for i, c := range bcols {
		types[i] = string(c.Type())
	}
	data, err := build(types)
	if err != nil {
		return fmt.Errorf("insert into %s.%s: %w", s.db, table, err)
	}
	ends := blockEnds(data, insertBlockBytes, insertBlockRows)
	s.reserveStrings(bcols, types, data, ends)
	if err := sendBlocks(batch, cols, data, ends); err != nil {
		return fmt.Errorf("insert into %s.%s: %w", s.db, table, err)
	}
	return nil
}

// sendBlocks appends each block's rows to batch and flushes it, then ends
// the INSERT with Send.
func sendBlocks(batch driver.Batch, cols []string, data []any, ends []int) error {
	lo := 0
	for k, hi := range ends {
		for i, d := range data {
			if err := batch.Column(i).Append(columnRange(d, lo, hi)); err != nil {
				return fmt.Errorf("column %s: %w", cols[i], appendError(err))
			}
		}
		if k < len(ends)-1 {
			if err := batch.Flush(); err != nil {
				return fmt.Errorf("send block: %w", err)
			}
		}
		lo = hi
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// bytesText views b as a string without copying; b must outlive the insert
// (rows alias the writer's spool buffer, which does).
func bytesText(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// InsertEvents inserts rows into user_events.
func (s *Server) InsertEvents(ctx context.Context, rows []canonical.Event) error {
	if len(rows) == 0 {
		return nil
	}
	return s.insertColumns(ctx, tableEvents, eventColumns, func(types []string) ([]any, error) {
		n := len(rows)
		ids, contacts := make([]uuid.UUID, n), make([]uuid.UUID, n)
		names, users, distinct, currency := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		source, lib, ip, idem := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		props, groups := make([]string, n), make([]string, n)
		occurred, received := make([]time.Time, n), make([]time.Time, n)
		for i := range rows {
			e := &rows[i]
			ids[i], names[i], users[i], contacts[i] = e.ID, e.Name, e.UserID, e.ContactID
			distinct[i], props[i], currency[i], groups[i] = e.DistinctID, bytesText(jsonOrEmpty(e.Properties)), e.Currency, bytesText(jsonOrEmpty(e.Groups))
			source[i], lib[i], ip[i], idem[i] = e.Source, e.Lib, e.IP, e.IdempotencyKey
			occurred[i], received[i] = storedTime(e.OccurredAt), storedTime(e.ReceivedAt)
		}
		value, err := valueColumn(rows, types[eventValueColumn])
		if err != nil {
			return nil, err
		}
		return []any{ids, names, users, contacts, distinct, props, value, currency, groups, source, lib, ip, idem, occurred, received}, nil
	})
}

// eventValueColumn is the index of "value" in eventColumns.
const eventValueColumn = 6

// valueColumn builds the Nullable value column of type typ: decimals rounded
// to cents for Decimal(14,2), float64s on servers without Decimal.
//
// A value with more integer digits than the Decimal holds is refused here:
// the native protocol sends Decimals as raw integers, which the server stores
// unchecked (clickhouse-go only refuses what overflows Int64), while the
// embedded backend's text insert and the server's own parsers refuse it
// ("Too many digits"). Both backends thus refuse the same rows.
func valueColumn(rows []canonical.Event, typ string) (any, error) {
	n := len(rows)
	if precision, scale, ok := decimalType(typ); ok {
		limit := decimal.New(1, int32(precision-scale))
		vs, backing := make([]*decimal.Decimal, n), make([]decimal.Decimal, n)
		for i := range rows {
			if rows[i].HasValue {
				backing[i] = decimal.NewFromFloat(rows[i].Value).Round(int32(scale))
				if backing[i].Abs().Cmp(limit) >= 0 {
					return nil, refused(fmt.Errorf("value %s of event %s does not fit %s: more than %d integer digits",
						backing[i].String(), rows[i].ID, typ, precision-scale))
				}
				vs[i] = &backing[i]
			}
		}
		return vs, nil
	}
	vs, backing := make([]*float64, n), make([]float64, n)
	for i := range rows {
		if rows[i].HasValue {
			backing[i] = roundCents(rows[i].Value)
			vs[i] = &backing[i]
		}
	}
	return vs, nil
}

// decimalType reads the precision and scale of a (Nullable) Decimal(P, S)
// column type.
func decimalType(typ string) (precision, scale int, ok bool) {
	i := strings.Index(typ, "Decimal(")
	if i < 0 {
		return 0, 0, false
	}
	args, _, found := strings.Cut(typ[i+len("Decimal("):], ")")
	if !found {
		return 0, 0, false
	}
	p, s, found := strings.Cut(args, ",")
	if !found {
		return 0, 0, false
	}
	precision, err1 := strconv.Atoi(strings.TrimSpace(p))
	scale, err2 := strconv.Atoi(strings.TrimSpace(s))
	if err1 != nil || err2 != nil || scale < 0 || scale > precision {
		return 0, 0, false
	}
	return precision, scale, true
}

// appendError marks a value clickhouse-go refused while encoding the block
// (e.g. "value … overflows Decimal64") as the rows' fault. A Go type the
// column does not take is our bug, not the rows', and stays a plain error.
func appendError(err error) error {
	var conv *column.ColumnConverterError
	var unsupported *column.UnsupportedColumnTypeError
	if errors.As(err, &conv) || errors.As(err, &unsupported) {
		return err
	}
	return refused(err)
}

// InsertContacts inserts contact versions into contacts.
func (s *Server) InsertContacts(ctx context.Context, rows []canonical.Contact) error {
	if len(rows) == 0 {
		return nil
	}
	return s.insertColumns(ctx, tableContacts, contactColumns, func([]string) ([]any, error) {
		n := len(rows)
		ids := make([]uuid.UUID, n)
		ext, email, anon, source := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		props := make([]string, n)
		first, last, created, updated, deleted := make([]time.Time, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
		isDeleted := make([]uint8, n)
		version := make([]uint64, n)
		for i := range rows {
			c := &rows[i]
			ids[i], ext[i], email[i], anon[i] = c.ID, c.ExternalID, c.Email, c.AnonymousID
			props[i], source[i] = bytesText(jsonOrEmpty(c.Properties)), c.Source
			first[i], last[i] = storedTime(c.FirstSeenAt), storedTime(c.LastSeenAt)
			created[i], updated[i], deleted[i] = storedTime(c.CreatedAt), storedTime(c.UpdatedAt), storedTime(c.DeletedAt)
			isDeleted[i], version[i] = boolUInt8(c.DeletedAt != 0), c.Version
		}
		return []any{ids, ext, email, anon, props, source, first, last, created, updated, deleted, isDeleted, version}, nil
	})
}

// InsertAliases inserts alias versions (and tombstones) into contact_aliases.
func (s *Server) InsertAliases(ctx context.Context, rows []canonical.Alias) error {
	if len(rows) == 0 {
		return nil
	}
	return s.insertColumns(ctx, tableAliases, aliasColumns, func([]string) ([]any, error) {
		n := len(rows)
		kind, value, reason := make([]string, n), make([]string, n), make([]string, n)
		contact, from := make([]uuid.UUID, n), make([]uuid.UUID, n)
		deleted := make([]uint8, n)
		version := make([]uint64, n)
		created := make([]time.Time, n)
		for i := range rows {
			a := &rows[i]
			kind[i], value[i], contact[i], from[i], reason[i] = a.Kind, a.Value, a.ContactID, a.FromContactID, a.Reason
			deleted[i], version[i], created[i] = boolUInt8(a.Deleted), a.Version, storedTime(a.At)
		}
		return []any{kind, value, contact, from, reason, deleted, version, created}, nil
	})
}

// InsertAPIKeys inserts API key rows into api_keys.
func (s *Server) InsertAPIKeys(ctx context.Context, rows []canonical.APIKey) error {
	if len(rows) == 0 {
		return nil
	}
	return s.insertColumns(ctx, tableAPIKeys, apiKeyColumns, func([]string) ([]any, error) {
		n := len(rows)
		hash, prefix, name := make([]string, n), make([]string, n), make([]string, n)
		scopes := make([][]string, n)
		created, expires, revoked := make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
		version := make([]uint64, n)
		origins := make([][]string, n)
		for i := range rows {
			k := &rows[i]
			hash[i], prefix[i], name[i] = k.Hash, k.Prefix, k.Name
			scopes[i], origins[i] = k.Scopes, k.AllowedOrigins
			if scopes[i] == nil {
				scopes[i] = []string{}
			}
			if origins[i] == nil {
				origins[i] = []string{}
			}
			created[i], expires[i], revoked[i] = storedTime(k.CreatedAt), storedTime(k.ExpiresAt), storedTime(k.RevokedAt)
			version[i] = apiKeyVersion(k)
		}
		return []any{hash, prefix, name, scopes, created, expires, revoked, version, origins}, nil
	})
}

// InsertLists inserts list opt-in/opt-out versions into list_memberships.
func (s *Server) InsertLists(ctx context.Context, rows []canonical.ListMembership) error {
	if len(rows) == 0 {
		return nil
	}
	return s.insertColumns(ctx, tableLists, listColumns, func([]string) ([]any, error) {
		n := len(rows)
		contact := make([]uuid.UUID, n)
		email, list := make([]string, n), make([]string, n)
		subscribed := make([]uint8, n)
		version := make([]uint64, n)
		updated := make([]time.Time, n)
		for i := range rows {
			l := &rows[i]
			contact[i], email[i], list[i] = l.ContactID, l.Email, l.ListID
			subscribed[i], version[i], updated[i] = boolUInt8(l.Subscribed), l.Version, storedTime(l.At)
		}
		return []any{contact, email, list, subscribed, version, updated}, nil
	})
}

// InsertDeadLetters inserts refused rows into dead_letters.
func (s *Server) InsertDeadLetters(ctx context.Context, rows []DeadLetter) error {
	if len(rows) == 0 {
		return nil
	}
	return s.insertColumns(ctx, tableDeadLetters, deadLetterColumns, func([]string) ([]any, error) {
		n := len(rows)
		failed := make([]time.Time, n)
		table, record, reason := make([]string, n), make([]string, n), make([]string, n)
		row := make([][]byte, n)
		segment := make([]uint64, n)
		offset := make([]int64, n)
		for i := range rows {
			d := &rows[i]
			failed[i], table[i], row[i], record[i], reason[i] = storedTime(d.FailedAt), d.Table, d.Row, d.Record, d.Reason
			segment[i], offset[i] = d.Pos.Segment, d.Pos.Offset
		}
		return []any{failed, table, row, record, reason, segment, offset}, nil
	})
}
