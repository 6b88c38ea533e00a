package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// Snapshot queries select every column as text-friendly scalars (times as
// Int64 ms, UUIDs as strings, scopes joined), so both backends return rows
// the same parser reads.

// LoadSnapshot reads back identity state; see Backend.
func (s *Server) LoadSnapshot(ctx context.Context, since int64, window time.Duration) (canonical.Snapshot, error) {
	f, err := s.features(ctx)
	if err != nil {
		return canonical.Snapshot{}, err
	}
	return loadSnapshot(ctx, s, s.db, f, since, window)
}

func loadSnapshot(ctx context.Context, r runner, db string, f features, since int64, window time.Duration) (canonical.Snapshot, error) {
	var snap canonical.Snapshot
	ms := f.millis

	q := fmt.Sprintf(`SELECT toString(id), external_id, email, anonymous_id, properties, source,
    %s, %s, %s, %s, %s, version
FROM %s.contacts FINAL`,
		ms("first_seen_at"), ms("last_seen_at"), ms("created_at"), ms("updated_at"), ms("deleted_at"), db)
	err := r.queryRows(ctx, q, func(row []string) error {
		p := fieldParser{row: row}
		c := canonical.Contact{
			ID: p.uuid(0), ExternalID: row[1], Email: row[2], AnonymousID: row[3],
			Properties: []byte(row[4]), Source: row[5],
			FirstSeenAt: p.int(6), LastSeenAt: p.int(7), CreatedAt: p.int(8), UpdatedAt: p.int(9),
			DeletedAt: p.int(10), Version: p.uint(11),
		}
		snap.Contacts = append(snap.Contacts, c)
		return p.err
	})
	if err != nil {
		return snap, fmt.Errorf("load contacts: %w", err)
	}

	q = fmt.Sprintf(`SELECT alias_kind, alias_value, toString(contact_id), toString(from_contact_id), reason,
    is_deleted, version, %s
FROM %s.contact_aliases FINAL`, ms("created_at"), db)
	err = r.queryRows(ctx, q, func(row []string) error {
		p := fieldParser{row: row}
		a := canonical.Alias{
			Kind: row[0], Value: row[1], ContactID: p.uuid(2), FromContactID: p.uuid(3), Reason: row[4],
			Deleted: p.uint(5) != 0, Version: p.uint(6), At: p.int(7),
		}
		snap.Aliases = append(snap.Aliases, a)
		return p.err
	})
	if err != nil {
		return snap, fmt.Errorf("load contact aliases: %w", err)
	}

	if snap.APIKeys, err = loadAPIKeys(ctx, r, db, f); err != nil {
		return snap, err
	}

	// A key is claimed when its first event is received. since is floored
	// to the stored precision so a second-precision server does not drop
	// the events of since's own second.
	floor := since - since%f.precisionMillis()
	q = fmt.Sprintf(`SELECT idempotency_key, min(%s) AS received
FROM %s.user_events
WHERE idempotency_key != '' AND %s >= %d
GROUP BY idempotency_key`, ms("received_at"), db, ms("received_at"), floor)
	win := window.Milliseconds()
	err = r.queryRows(ctx, q, func(row []string) error {
		p := fieldParser{row: row}
		snap.Idempotency = append(snap.Idempotency, canonical.IdempotencyClaim{Key: row[0], ExpiresAt: p.int(1) + win})
		return p.err
	})
	if err != nil {
		return snap, fmt.Errorf("load idempotency keys: %w", err)
	}
	return snap, nil
}

func splitScopes(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// fieldParser parses text columns, keeping the first error.
type fieldParser struct {
	row []string
	err error
}

func (p *fieldParser) fail(i int, what string, err error) {
	if p.err == nil {
		p.err = fmt.Errorf("column %d: parse %s %q: %w", i, what, p.row[i], err)
	}
}

func (p *fieldParser) int(i int) int64 {
	v, err := strconv.ParseInt(p.row[i], 10, 64)
	if err != nil {
		p.fail(i, "int", err)
	}
	return v
}

func (p *fieldParser) uint(i int) uint64 {
	v, err := strconv.ParseUint(p.row[i], 10, 64)
	if err != nil {
		p.fail(i, "uint", err)
	}
	return v
}

func (p *fieldParser) uuid(i int) uuid.UUID {
	v, err := uuid.Parse(p.row[i])
	if err != nil {
		p.fail(i, "uuid", err)
	}
	return v
}

// LoadAPIKeys reads back the API keys; see Backend.
func (s *Server) LoadAPIKeys(ctx context.Context) ([]canonical.APIKey, error) {
	f, err := s.features(ctx)
	if err != nil {
		return nil, err
	}
	return loadAPIKeys(ctx, s, s.db, f)
}

// LoadAPIKeys reads back the API keys; see Backend.
func (e *Embedded) LoadAPIKeys(ctx context.Context) ([]canonical.APIKey, error) {
	return loadAPIKeys(ctx, e, e.db, e.feat)
}

// loadAPIKeys reads the latest row of every API key.
func loadAPIKeys(ctx context.Context, r runner, db string, f features) ([]canonical.APIKey, error) {
	ms := f.millis
	var keys []canonical.APIKey
	// Scopes are fixed tokens ("read", "ingest", …), never containing a comma.
	// Origins never contain a space.
	q := fmt.Sprintf(`SELECT key_hash, key_prefix, name, arrayStringConcat(scopes, ','), %s, %s, %s,
    arrayStringConcat(allowed_origins, ' ')
FROM %s.api_keys FINAL`, ms("created_at"), ms("expires_at"), ms("revoked_at"), db)
	err := r.queryRows(ctx, q, func(row []string) error {
		p := fieldParser{row: row}
		k := canonical.APIKey{
			Hash: row[0], Prefix: row[1], Name: row[2], Scopes: splitScopes(row[3]),
			CreatedAt: p.int(4), ExpiresAt: p.int(5), RevokedAt: p.int(6),
		}
		if row[7] != "" {
			k.AllowedOrigins = strings.Split(row[7], " ")
		}
		keys = append(keys, k)
		return p.err
	})
	if err != nil {
		return nil, fmt.Errorf("load api keys: %w", err)
	}
	return keys, nil
}
