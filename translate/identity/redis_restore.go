package identity

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// restoreChunk bounds one pipeline of Restore, keeping memory and the time
// Redis spends on one batch modest during a large rebuild.
const restoreChunk = 1000

// Restore loads a snapshot in the same order as Memory.Restore: contacts,
// aliases, an index pass over live identity columns, then API keys and
// idempotency claims. Every row is version-checked by its script, so a restore
// over newer state changes nothing that is newer.
func (r *Redis) Restore(ctx context.Context, s canonical.Snapshot) error {
	if r.cache != nil {
		r.cache.clear()
	}
	if err := loadScriptsEverywhere(ctx, r.c); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	contacts := slices.Clone(s.Contacts)
	slices.SortStableFunc(contacts, func(a, b canonical.Contact) int { return cmp.Compare(a.Version, b.Version) })
	aliases := slices.Clone(s.Aliases)
	slices.SortStableFunc(aliases, func(a, b canonical.Alias) int { return cmp.Compare(a.Version, b.Version) })

	err := r.chunked(ctx, "restore contacts", len(contacts), func(p redis.Pipeliner, i int) error {
		c := &contacts[i]
		props, err := parseProps(c.Properties)
		if err != nil {
			return fmt.Errorf("restore contact %s: %w", c.ID, err)
		}
		args := make([]any, 0, 12+2*len(props))
		args = append(args, r.graph, c.ID.String(), c.Version, c.ExternalID, c.Email, c.AnonymousID,
			c.Source, c.FirstSeenAt, c.LastSeenAt, c.CreatedAt, c.UpdatedAt, c.DeletedAt)
		for _, pr := range props {
			args = append(args, "."+pr.name, pr.raw)
		}
		p.EvalSha(ctx, scriptRestoreContact.sha, r.graphKeys(), args...)
		return nil
	})
	if err != nil {
		return err
	}
	err = r.chunked(ctx, "restore aliases", len(aliases), func(p redis.Pipeliner, i int) error {
		a := &aliases[i]
		if strings.IndexByte(a.Kind, ':') >= 0 || slotOf(a.Kind) < 0 {
			return fmt.Errorf("restore alias: unknown kind %q", a.Kind)
		}
		deleted := "0"
		if a.Deleted {
			deleted = "1"
		}
		p.EvalSha(ctx, scriptRestoreAlias.sha, r.graphKeys(), r.graph, a.Kind, a.Value, a.ContactID.String(), a.Version, deleted)
		return nil
	})
	if err != nil {
		return err
	}
	err = r.chunked(ctx, "restore column index", len(contacts), func(p redis.Pipeliner, i int) error {
		if contacts[i].DeletedAt == 0 {
			p.EvalSha(ctx, scriptRestoreIndex.sha, r.graphKeys(), r.graph, contacts[i].ID.String())
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range apiKeysInVersionOrder(s.APIKeys) {
		if err := r.PutAPIKey(ctx, k); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	wall := time.Now().UnixMilli()
	return r.chunked(ctx, "restore idempotency", len(s.Idempotency), func(p redis.Pipeliner, i int) error {
		cl := s.Idempotency[i]
		if cl.ExpiresAt > wall {
			slot := claimSlotOf(r.prefix, cl.Key)
			p.EvalSha(ctx, scriptRestoreClaim.sha, []string{slot.key}, r.prefix, slot.field, cl.ExpiresAt)
		}
		return nil
	})
}

// chunked queues n commands via add, executing a pipeline every restoreChunk.
func (r *Redis) chunked(ctx context.Context, what string, n int, add func(redis.Pipeliner, int) error) error {
	for lo := 0; lo < n; lo += restoreChunk {
		p := r.c.Pipeline()
		for i := lo; i < min(lo+restoreChunk, n); i++ {
			if err := add(p, i); err != nil {
				return err
			}
		}
		if p.Len() == 0 {
			continue
		}
		cmds, _ := p.Exec(ctx)
		for _, c := range cmds {
			if err := c.Err(); err != nil && err != redis.Nil {
				return unavailable(what, err)
			}
		}
	}
	return nil
}
