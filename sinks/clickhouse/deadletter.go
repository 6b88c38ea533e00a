package clickhouse

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/hogsend/hogsend-proxy/sinks/spool"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// DeadLetter is a row ClickHouse refused (a value its column cannot hold),
// kept in dead_letters instead of blocking the rows behind it. It holds
// what is needed to see why, and to insert it again once the cause is fixed.
type DeadLetter struct {
	// Table is the table the row was meant for, e.g. "user_events".
	Table string
	// Row is the row as a JSON object: column name → the value as
	// ClickHouse text (NULL as null), for people and SQL
	// (visitParamExtractString / JSONExtractString).
	Row []byte
	// Record is the canonical record, exactly as the spool held it: the
	// standard base64 of canonical.AppendBatch of a Batch holding only it
	// (DecodeDeadLetterRecord reverses it), for a faithful replay.
	Record string
	// Reason is the error the insert failed with, as the server (or the
	// client library) worded it.
	Reason string
	// FailedAt is when the row was dead-lettered, Unix ms.
	FailedAt int64
	// Pos is the position just after the spool entry the record came from
	// (spool.Entry.Pos, the entry's commit point).
	Pos spool.Position
}

// maxReasonBytes bounds a stored reason; server messages can quote values.
const maxReasonBytes = 4096

// deadLetterOf builds the dead letter of row i of table t of b.
func deadLetterOf(b *canonical.Batch, t tableIndex, i int, reason string, pos spool.Position, now int64) DeadLetter {
	var one canonical.Batch
	var cols []string
	var tsv []byte
	// Times with milliseconds, whatever the server's type: the row is for
	// reading, not for inserting as is.
	const ms = true
	switch t {
	case idxContacts:
		one.Contacts = b.Contacts[i : i+1]
		cols, tsv = contactColumns, appendContactTSV(nil, &b.Contacts[i], ms)
	case idxAliases:
		one.Aliases = b.Aliases[i : i+1]
		cols, tsv = aliasColumns, appendAliasTSV(nil, &b.Aliases[i], ms)
	case idxAPIKeys:
		one.APIKeys = b.APIKeys[i : i+1]
		cols, tsv = apiKeyColumns, appendAPIKeyTSV(nil, &b.APIKeys[i], ms)
	case idxLists:
		one.Lists = b.Lists[i : i+1]
		cols, tsv = listColumns, appendListTSV(nil, &b.Lists[i], ms)
	case idxEvents:
		one.Events = b.Events[i : i+1]
		cols, tsv = eventColumns, appendEventTSV(nil, &b.Events[i], ms)
	}
	if len(reason) > maxReasonBytes {
		reason = reason[:maxReasonBytes] + "…"
	}
	return DeadLetter{
		Table:    t.name(),
		Row:      rowJSON(cols, tsv),
		Record:   base64.StdEncoding.EncodeToString(canonical.AppendBatch(nil, &one)),
		Reason:   reason,
		FailedAt: now,
		Pos:      pos,
	}
}

// rowJSON turns one TabSeparated row into a JSON object keyed by cols.
func rowJSON(cols []string, tsv []byte) []byte {
	out := []byte{'{'}
	_ = parseTSV(tsv, func(row []string) error {
		for j, v := range row {
			if j >= len(cols) {
				break
			}
			if j > 0 {
				out = append(out, ',')
			}
			out = appendJSONString(out, cols[j])
			out = append(out, ':')
			if v == nullText {
				out = append(out, "null"...)
			} else {
				out = appendJSONString(out, v)
			}
		}
		return nil
	})
	return append(out, '}')
}

// appendJSONString appends s as a JSON string (invalid UTF-8 becomes
// U+FFFD; Record keeps the exact bytes).
func appendJSONString(dst []byte, s string) []byte {
	b, err := json.Marshal(s)
	if err != nil { // a string always marshals
		return append(dst, `""`...)
	}
	return append(dst, b...)
}

// DecodeDeadLetterRecord decodes the record column of a dead_letters row
// back into the batch holding the refused record, e.g. to append it to the
// spool again once the cause is fixed.
func DecodeDeadLetterRecord(record string) (canonical.Batch, error) {
	raw, err := base64.StdEncoding.DecodeString(record)
	if err != nil {
		return canonical.Batch{}, fmt.Errorf("decode dead letter record: %w", err)
	}
	var b canonical.Batch
	if err := canonical.DecodeBatch(raw, &b); err != nil {
		return canonical.Batch{}, fmt.Errorf("decode dead letter record: %w", err)
	}
	return b, nil
}
