package clickhouse

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// Embedded is a Backend on the ClickHouse engine running in-process through
// libchdb (chDB), with its data in dataDir/clickhouse. It uses the same DDL
// and SQL as Server.
//
// libchdb allows one session per process, so at most one Embedded may be open
// at a time; OpenEmbedded fails while another is open, and Close frees the
// slot (a new Embedded, e.g. on the same directory, may then be opened).
// Queries run one at a time: every method takes the session's lock.
//
// Memory: loading libchdb (≈530 MB on disk) adds ≈150 MB resident, an open
// session ≈50 MB more, and caches grow with use (≈320 MB total after 200k
// events). Close does not give it back: the library and its thread pools
// stay for the life of the process.
type Embedded struct {
	dir string
	db  string

	mu   sync.Mutex // serialises queries on the one connection
	conn *chdbConn
	feat features
}

// embeddedSession guards libchdb's one-session-per-process rule. It is the
// package's only mutable global, mirroring the library's own global state.
var embeddedSession struct {
	sync.Mutex
	dir string // data path of the open session, "" when none
}

// OpenEmbedded loads libchdb and opens its session on dataDir/clickhouse,
// creating the directory and the database if needed.
func OpenEmbedded(dataDir string) (*Embedded, error) {
	dir, err := filepath.Abs(filepath.Join(dataDir, "clickhouse"))
	if err != nil {
		return nil, fmt.Errorf("embedded clickhouse data dir: %w", err)
	}
	embeddedSession.Lock()
	defer embeddedSession.Unlock()
	if embeddedSession.dir != "" {
		return nil, fmt.Errorf("open embedded clickhouse in %s: a chdb session is already open in %s (libchdb allows one per process)", dir, embeddedSession.dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create embedded clickhouse data dir: %w", err)
	}
	lib, err := loadChdb()
	if err != nil {
		return nil, err
	}
	conn, err := lib.open("--path=" + dir)
	if err != nil {
		return nil, fmt.Errorf("open embedded clickhouse in %s: %w", dir, err)
	}
	e := &Embedded{dir: dir, db: DefaultDatabase, conn: conn}
	// The database is created eagerly and made current so that Query can
	// use unqualified table names, as with Server.
	if _, err := conn.query([]byte("CREATE DATABASE IF NOT EXISTS "+e.db+"; USE "+e.db), "TabSeparated"); err != nil {
		conn.close()
		return nil, fmt.Errorf("open embedded clickhouse in %s: create database: %w", dir, err)
	}
	e.feat, err = detectFeatures(context.Background(), e)
	if err != nil {
		conn.close()
		return nil, fmt.Errorf("open embedded clickhouse in %s: %w", dir, err)
	}
	embeddedSession.dir = dir
	return e, nil
}

// Dir is the directory the engine keeps its data in.
func (e *Embedded) Dir() string { return e.dir }

// Version is the engine's version, e.g. "26.5.1.1".
func (e *Embedded) Version() string { return e.feat.Version.Text }

// Migrate creates the database if needed and applies pending migrations.
func (e *Embedded) Migrate(ctx context.Context) error {
	if err := e.exec(ctx, "CREATE DATABASE IF NOT EXISTS "+e.db); err != nil {
		return fmt.Errorf("create database %s: %w", e.db, err)
	}
	if _, err := migrate(ctx, e, e.db, e.feat); err != nil {
		return fmt.Errorf("migrate embedded clickhouse (chdb %s): %w", e.feat.Version.Text, err)
	}
	return nil
}

// LoadSnapshot reads back identity state; see Backend.
func (e *Embedded) LoadSnapshot(ctx context.Context, since int64, window time.Duration) (canonical.Snapshot, error) {
	return loadSnapshot(ctx, e, e.db, e.feat, since, window)
}

// Query runs sql and returns its rows as text.
func (e *Embedded) Query(ctx context.Context, sql string) ([][]string, error) {
	var out [][]string
	err := e.queryRows(ctx, sql, func(row []string) error {
		out = append(out, append([]string(nil), row...))
		return nil
	})
	return out, err
}

// Ping checks that the session answers.
func (e *Embedded) Ping(ctx context.Context) error {
	if err := e.exec(ctx, "SELECT 1"); err != nil {
		return fmt.Errorf("ping embedded clickhouse: %w", err)
	}
	return nil
}

// Close closes the session; the data stays in Dir.
func (e *Embedded) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn == nil {
		return nil
	}
	e.conn.close()
	e.conn = nil
	embeddedSession.Lock()
	embeddedSession.dir = ""
	embeddedSession.Unlock()
	return nil
}

// run executes sql on the session. libchdb calls cannot be interrupted, so
// ctx is only checked before the call.
func (e *Embedded) run(ctx context.Context, sql []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn == nil {
		return nil, fmt.Errorf("embedded clickhouse is closed")
	}
	return e.conn.query(sql, "TabSeparated")
}

func (e *Embedded) exec(ctx context.Context, sql string) error {
	_, err := e.run(ctx, []byte(sql))
	return err
}

func (e *Embedded) queryRows(ctx context.Context, sql string, fn func(row []string) error) error {
	out, err := e.run(ctx, []byte(sql))
	if err != nil {
		return err
	}
	return parseTSV(out, fn)
}
