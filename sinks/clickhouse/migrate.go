package clickhouse

import (
	"context"
	"fmt"
	"strconv"
)

// detectFeatures asks the server for its version.
func detectFeatures(ctx context.Context, r runner) (features, error) {
	var text string
	err := r.queryRows(ctx, "SELECT version()", func(row []string) error {
		if len(row) > 0 {
			text = row[0]
		}
		return nil
	})
	if err != nil {
		return features{}, fmt.Errorf("read server version: %w", err)
	}
	v, err := parseServerVersion(text)
	if err != nil {
		return features{}, err
	}
	return featuresFor(v), nil
}

// migrate applies the migrations not yet recorded in db.schema_migrations.
// The database must exist. It returns the versions it applied.
func migrate(ctx context.Context, r runner, db string, f features) ([]uint32, error) {
	if err := r.exec(ctx, migrationsTableDDL(db, f)); err != nil {
		return nil, fmt.Errorf("create %s.%s: %w", db, tableMigrations, err)
	}
	applied := map[uint32]bool{}
	err := r.queryRows(ctx, "SELECT DISTINCT version FROM "+db+"."+tableMigrations, func(row []string) error {
		v, err := strconv.ParseUint(row[0], 10, 32)
		if err != nil {
			return fmt.Errorf("parse migration version %q: %w", row[0], err)
		}
		applied[uint32(v)] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	var done []uint32
	for _, m := range migrations(db, f) {
		if applied[m.Version] {
			continue
		}
		for i, stmt := range m.Stmts {
			if err := r.exec(ctx, stmt); err != nil {
				return done, fmt.Errorf("migration %d (%s) statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
		// INSERT … SELECT runs entirely on the server, which every version
		// and both backends accept.
		rec := fmt.Sprintf("INSERT INTO %s.%s (version, name, applied_at) SELECT %d, %s, now()",
			db, tableMigrations, m.Version, quoteString(m.Name))
		if err := r.exec(ctx, rec); err != nil {
			return done, fmt.Errorf("record migration %d: %w", m.Version, err)
		}
		done = append(done, m.Version)
	}
	return done, nil
}
