package clickhouse

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// DefaultDatabase is the database the tables live in unless the URL names another.
const DefaultDatabase = "hogsend"

// Backend is a ClickHouse the canonical records are stored in.
type Backend interface {
	// Migrate creates the database and applies the schema migrations not yet
	// recorded in schema_migrations. Running it again is a no-op.
	Migrate(ctx context.Context) error
	InsertEvents(ctx context.Context, rows []canonical.Event) error
	InsertContacts(ctx context.Context, rows []canonical.Contact) error
	InsertAliases(ctx context.Context, rows []canonical.Alias) error
	InsertAPIKeys(ctx context.Context, rows []canonical.APIKey) error
	InsertLists(ctx context.Context, rows []canonical.ListMembership) error
	// InsertDeadLetters stores rows the other inserts refused; see DeadLetter.
	InsertDeadLetters(ctx context.Context, rows []DeadLetter) error
	// LoadSnapshot reads back identity state: the latest version of every
	// contact and alias (deleted ones and tombstones included), the API keys,
	// and the idempotency keys of events received at or after since (Unix
	// ms), each expiring window after its event was received.
	LoadSnapshot(ctx context.Context, since int64, window time.Duration) (canonical.Snapshot, error)
	// LoadAPIKeys reads back the latest row of every API key.
	LoadAPIKeys(ctx context.Context) ([]canonical.APIKey, error)
	// Conversions: click context, dispatch history and dead letters.
	InsertClicks(ctx context.Context, rows []Click) error
	InsertDispatches(ctx context.Context, rows []Dispatch) error
	InsertConversionDeadLetters(ctx context.Context, rows []ConversionDeadLetter) error
	LoadContactFacts(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]*ContactFacts, error)
	LoadRecentClicks(ctx context.Context, contacts []uuid.UUID, since, until int64) ([]Click, error)
	LoadConversionDeadLetters(ctx context.Context, destination string) ([]ConversionDeadLetter, error)
	// The hand-off's dead letters (sinks/engine).
	InsertEngineDeadLetters(ctx context.Context, rows []EngineDeadLetter) error
	LoadEngineDeadLetters(ctx context.Context) ([]EngineDeadLetter, error)
	// The PostHog mirror's dead letters (sinks/posthog).
	InsertPostHogDeadLetters(ctx context.Context, rows []PostHogDeadLetter) error
	LoadPostHogDeadLetters(ctx context.Context) ([]PostHogDeadLetter, error)
	// Query runs sql and returns its rows as text, NULL as `\N`. It is meant
	// for tests and operations, not for the hot path.
	Query(ctx context.Context, sql string) ([][]string, error)
	Ping(ctx context.Context) error
	Close() error
}

var (
	_ Backend = (*Server)(nil)
	_ Backend = (*Embedded)(nil)
)

// runner is what the shared migration and snapshot code needs from a backend.
type runner interface {
	exec(ctx context.Context, sql string) error
	// queryRows calls fn for every row of sql's result, each column as text
	// (NULL as `\N`). fn must not keep row.
	queryRows(ctx context.Context, sql string, fn func(row []string) error) error
}

// nullText is how Query and queryRows show NULL, as ClickHouse's
// TabSeparated format does.
const nullText = `\N`
