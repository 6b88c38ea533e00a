package clickhouse

import (
	"context"
	"fmt"
	"strconv"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// Embedded inserts send the rows inline as TabSeparated text:
//
//	INSERT INTO hogsend.t (c1, c2, …) FORMAT TabSeparated
//	v1\tv2\t…\n…

func (e *Embedded) insert(ctx context.Context, table string, cols []string, n int, appendRow func(dst []byte, i int) []byte) error {
	if n == 0 {
		return nil
	}
	buf := make([]byte, 0, 64+n*256)
	buf = append(buf, insertPrefix(e.db, table, cols)...)
	buf = append(buf, " FORMAT TabSeparated\n"...)
	for i := 0; i < n; i++ {
		buf = appendRow(buf, i)
		buf = append(buf, '\n')
	}
	if _, err := e.run(ctx, buf); err != nil {
		return fmt.Errorf("insert into %s.%s: %w", e.db, table, err)
	}
	return nil
}

// InsertEvents inserts rows into user_events.
func (e *Embedded) InsertEvents(ctx context.Context, rows []canonical.Event) error {
	ms := e.feat.DateTime64
	return e.insert(ctx, tableEvents, eventColumns, len(rows), func(b []byte, i int) []byte {
		return appendEventTSV(b, &rows[i], ms)
	})
}

// appendEventTSV appends one user_events row (without the newline).
func appendEventTSV(b []byte, r *canonical.Event, ms bool) []byte {
	b = canonical.AppendUUID(b, r.ID)
	b = appendTSVString(append(b, '\t'), r.Name)
	b = appendTSVString(append(b, '\t'), r.UserID)
	b = canonical.AppendUUID(append(b, '\t'), r.ContactID)
	b = appendTSVString(append(b, '\t'), r.DistinctID)
	b = appendTSVBytes(append(b, '\t'), jsonOrEmpty(r.Properties))
	b = appendTSVValue(append(b, '\t'), r.HasValue, r.Value)
	b = appendTSVString(append(b, '\t'), r.Currency)
	b = appendTSVBytes(append(b, '\t'), jsonOrEmpty(r.Groups))
	b = appendTSVString(append(b, '\t'), r.Source)
	b = appendTSVString(append(b, '\t'), r.Lib)
	b = appendTSVString(append(b, '\t'), r.IP)
	b = appendTSVString(append(b, '\t'), r.IdempotencyKey)
	b = appendTSVTime(append(b, '\t'), r.OccurredAt, ms)
	return appendTSVTime(append(b, '\t'), r.ReceivedAt, ms)
}

// InsertContacts inserts contact versions into contacts.
func (e *Embedded) InsertContacts(ctx context.Context, rows []canonical.Contact) error {
	ms := e.feat.DateTime64
	return e.insert(ctx, tableContacts, contactColumns, len(rows), func(b []byte, i int) []byte {
		return appendContactTSV(b, &rows[i], ms)
	})
}

// appendContactTSV appends one contacts row (without the newline).
func appendContactTSV(b []byte, r *canonical.Contact, ms bool) []byte {
	b = canonical.AppendUUID(b, r.ID)
	b = appendTSVString(append(b, '\t'), r.ExternalID)
	b = appendTSVString(append(b, '\t'), r.Email)
	b = appendTSVString(append(b, '\t'), r.AnonymousID)
	b = appendTSVBytes(append(b, '\t'), jsonOrEmpty(r.Properties))
	b = appendTSVString(append(b, '\t'), r.Source)
	b = appendTSVTime(append(b, '\t'), r.FirstSeenAt, ms)
	b = appendTSVTime(append(b, '\t'), r.LastSeenAt, ms)
	b = appendTSVTime(append(b, '\t'), r.CreatedAt, ms)
	b = appendTSVTime(append(b, '\t'), r.UpdatedAt, ms)
	b = appendTSVTime(append(b, '\t'), r.DeletedAt, ms)
	b = appendTSVUint(append(b, '\t'), uint64(boolUInt8(r.DeletedAt != 0)))
	return appendTSVUint(append(b, '\t'), r.Version)
}

// InsertAliases inserts alias versions (and tombstones) into contact_aliases.
func (e *Embedded) InsertAliases(ctx context.Context, rows []canonical.Alias) error {
	ms := e.feat.DateTime64
	return e.insert(ctx, tableAliases, aliasColumns, len(rows), func(b []byte, i int) []byte {
		return appendAliasTSV(b, &rows[i], ms)
	})
}

// appendAliasTSV appends one contact_aliases row (without the newline).
func appendAliasTSV(b []byte, r *canonical.Alias, ms bool) []byte {
	b = appendTSVString(b, r.Kind)
	b = appendTSVString(append(b, '\t'), r.Value)
	b = canonical.AppendUUID(append(b, '\t'), r.ContactID)
	b = canonical.AppendUUID(append(b, '\t'), r.FromContactID)
	b = appendTSVString(append(b, '\t'), r.Reason)
	b = appendTSVUint(append(b, '\t'), uint64(boolUInt8(r.Deleted)))
	b = appendTSVUint(append(b, '\t'), r.Version)
	return appendTSVTime(append(b, '\t'), r.At, ms)
}

// InsertAPIKeys inserts API key rows into api_keys.
func (e *Embedded) InsertAPIKeys(ctx context.Context, rows []canonical.APIKey) error {
	ms := e.feat.DateTime64
	return e.insert(ctx, tableAPIKeys, apiKeyColumns, len(rows), func(b []byte, i int) []byte {
		return appendAPIKeyTSV(b, &rows[i], ms)
	})
}

// appendAPIKeyTSV appends one api_keys row (without the newline).
func appendAPIKeyTSV(b []byte, r *canonical.APIKey, ms bool) []byte {
	b = appendTSVString(b, r.Hash)
	b = appendTSVString(append(b, '\t'), r.Prefix)
	b = appendTSVString(append(b, '\t'), r.Name)
	b = appendTSVStringArray(append(b, '\t'), r.Scopes)
	b = appendTSVTime(append(b, '\t'), r.CreatedAt, ms)
	b = appendTSVTime(append(b, '\t'), r.ExpiresAt, ms)
	b = appendTSVTime(append(b, '\t'), r.RevokedAt, ms)
	b = appendTSVUint(append(b, '\t'), apiKeyVersion(r))
	return appendTSVStringArray(append(b, '\t'), r.AllowedOrigins)
}

// InsertLists inserts list opt-in/opt-out versions into list_memberships.
func (e *Embedded) InsertLists(ctx context.Context, rows []canonical.ListMembership) error {
	ms := e.feat.DateTime64
	return e.insert(ctx, tableLists, listColumns, len(rows), func(b []byte, i int) []byte {
		return appendListTSV(b, &rows[i], ms)
	})
}

// appendListTSV appends one list_memberships row (without the newline).
func appendListTSV(b []byte, r *canonical.ListMembership, ms bool) []byte {
	b = canonical.AppendUUID(b, r.ContactID)
	b = appendTSVString(append(b, '\t'), r.Email)
	b = appendTSVString(append(b, '\t'), r.ListID)
	b = appendTSVUint(append(b, '\t'), uint64(boolUInt8(r.Subscribed)))
	b = appendTSVUint(append(b, '\t'), r.Version)
	return appendTSVTime(append(b, '\t'), r.At, ms)
}

// InsertDeadLetters inserts refused rows into dead_letters.
func (e *Embedded) InsertDeadLetters(ctx context.Context, rows []DeadLetter) error {
	ms := e.feat.DateTime64
	return e.insert(ctx, tableDeadLetters, deadLetterColumns, len(rows), func(b []byte, i int) []byte {
		r := &rows[i]
		b = appendTSVTime(b, r.FailedAt, ms)
		b = appendTSVString(append(b, '\t'), r.Table)
		b = appendTSVBytes(append(b, '\t'), r.Row)
		b = appendTSVString(append(b, '\t'), r.Record)
		b = appendTSVString(append(b, '\t'), r.Reason)
		b = appendTSVUint(append(b, '\t'), r.Pos.Segment)
		return strconv.AppendInt(append(b, '\t'), r.Pos.Offset, 10)
	})
}
