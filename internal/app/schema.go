package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/backoff"
	"github.com/hogsend/hogsend-proxy/sinks/clickhouse"
)

// Waits between migration attempts while a ClickHouse server does not
// answer: short at first, for a compose stack starting together.
const (
	schemaFirstRetry = 200 * time.Millisecond
	schemaMaxRetry   = 5 * time.Second
	// schemaFirstTry bounds the attempt at start, past the driver's dial
	// timeout, so an unreachable host delays the start by this at most.
	schemaFirstTry = 10 * time.Second
)

// schema gets a ClickHouse server's tables migrated. A server that does not
// answer at start does not stop the start: the proxy serves into the spool
// and the writer, which waits for the tables, migrates once it answers.
type schema struct {
	backend clickhouse.Backend
	log     *slog.Logger

	mu      sync.Mutex
	pending error // why the tables are not ready; nil once migrated
}

// migrateAtStart tries once. A server that answered and refused (bad
// credentials, a migration it rejects) stops the start; one that did not
// answer leaves the schema pending for wait.
func (s *schema) migrateAtStart(ctx context.Context) error {
	tctx, cancel := context.WithTimeout(ctx, schemaFirstTry)
	err := s.backend.Migrate(tctx)
	cancel()
	if err == nil {
		return nil
	}
	if clickhouse.Refused(err) {
		return fmt.Errorf("migrate clickhouse: %w", err)
	}
	s.setPending(err)
	s.log.Warn("clickhouse not reachable yet: serving, with events waiting in the spool; the tables are migrated and the spool drained once it answers", "err", err)
	return nil
}

// wait migrates until it succeeds or ctx ends, logging when the kind of
// failure changes rather than on every attempt.
func (s *schema) wait(ctx context.Context) error {
	if s.ready() == nil {
		return nil
	}
	start, wait := time.Now(), schemaFirstRetry
	wasRefused := false
	for {
		if err := backoff.Sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, schemaMaxRetry)
		err := s.backend.Migrate(ctx)
		if err == nil {
			s.setPending(nil)
			s.log.Info("clickhouse answered: tables migrated, draining the spool", "waited", time.Since(start).Round(time.Millisecond))
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.setPending(err)
		if refused := clickhouse.Refused(err); refused != wasRefused {
			wasRefused = refused
			s.logChange(refused, err)
		}
	}
}

func (s *schema) logChange(refused bool, err error) {
	if refused {
		s.log.Error("clickhouse answers but refuses the migration; retrying", "err", err)
		return
	}
	s.log.Warn("clickhouse not reachable again; retrying", "err", err)
}

// ready is nil once the tables are migrated, else the reason they are not.
func (s *schema) ready() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending != nil {
		return fmt.Errorf("tables not migrated yet: %w", s.pending)
	}
	return nil
}

func (s *schema) setPending(err error) {
	s.mu.Lock()
	s.pending = err
	s.mu.Unlock()
}
