package fakeengine

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Identity key kinds, in the resolver's precedence order
// (docs/contracts/hogsend-api.md §3.3).
const (
	kindExternal  = "external"
	kindEmail     = "email"
	kindAnonymous = "anonymous"
)

// Contact is a contact as the fake holds it; empty strings are nulls.
type Contact struct {
	ID          string
	ExternalID  string
	Email       string
	AnonymousID string
	Properties  map[string]any
	Source      string // first touch: "" for PUT /v1/contacts, "api" or "inapp" for events
	FirstSeenAt time.Time
	LastSeenAt  time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Deleted     bool
	DeletedAt   time.Time
	// MergedInto is the survivor's id when a merge made this one a loser.
	MergedInto string
}

// identityKeys are a request's normalised keys.
type identityKeys struct {
	external, email, anonymous string
}

// normalise trims every key and lower-cases the email (§3.1).
func normalise(email, userID, anonymousID string) identityKeys {
	return identityKeys{
		external:  strings.TrimSpace(userID),
		email:     strings.ToLower(strings.TrimSpace(email)),
		anonymous: strings.TrimSpace(anonymousID),
	}
}

func (k identityKeys) ordered() [][2]string {
	var out [][2]string
	for _, kv := range [][2]string{{kindExternal, k.external}, {kindEmail, k.email}, {kindAnonymous, k.anonymous}} {
		if kv[1] != "" {
			out = append(out, kv)
		}
	}
	return out
}

func (k identityKeys) empty() bool { return k.external == "" && k.email == "" && k.anonymous == "" }

// canonicalKey is external_id ?? anonymous_id ?? id (§5.3).
func (c *Contact) canonicalKey() string {
	switch {
	case c.ExternalID != "":
		return c.ExternalID
	case c.AnonymousID != "":
		return c.AnonymousID
	default:
		return c.ID
	}
}

func (c *Contact) column(kind string) *string {
	switch kind {
	case kindExternal:
		return &c.ExternalID
	case kindEmail:
		return &c.Email
	default:
		return &c.AnonymousID
	}
}

func slot(kind, value string) string { return kind + ":" + value }

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// findLive looks one key up: as an alias of a live contact, then as a live
// contact's own key, then, for a uuid-shaped userId, as a contact id.
// Called with s.mu held.
func (s *Server) findLive(kind, value string) *Contact {
	if id, found := s.aliases[slot(kind, value)]; found {
		if c := s.contacts[id]; c != nil && !c.Deleted {
			return c
		}
	}
	if id, found := s.columns[slot(kind, value)]; found {
		if c := s.contacts[id]; c != nil && !c.Deleted {
			return c
		}
	}
	if kind == kindExternal && uuidRE.MatchString(value) {
		if c := s.contacts[strings.ToLower(value)]; c != nil && !c.Deleted {
			return c
		}
	}
	return nil
}

// resolution is what a resolve did.
type resolution struct {
	contact *Contact
	created bool
	linked  bool
}

// resolve finds, creates, fills in or merges the contact of keys and
// applies patch (docs/contracts/hogsend-api.md §3.3–§3.5). Called with s.mu held.
func (s *Server) resolve(keys identityKeys, patch map[string]any, source string, now time.Time) resolution {
	var found []*Contact
	for _, kv := range keys.ordered() {
		if c := s.findLive(kv[0], kv[1]); c != nil && !slices.Contains(found, c) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return resolution{contact: s.create(keys, patch, source, now), created: true}
	case 1:
		s.fillIn(found[0], keys, patch, now)
		return resolution{contact: found[0], linked: true}
	default:
		return resolution{contact: s.merge(found, keys, patch, now), linked: true}
	}
}

func (s *Server) create(keys identityKeys, patch map[string]any, source string, now time.Time) *Contact {
	c := &Contact{ID: newUUID(), ExternalID: keys.external, Email: keys.email, AnonymousID: keys.anonymous,
		Properties: mergeProperties(nil, patch), Source: source,
		FirstSeenAt: now, LastSeenAt: now, CreatedAt: now, UpdatedAt: now}
	s.contacts[c.ID] = c
	s.contactOrder = append(s.contactOrder, c.ID)
	for _, kv := range keys.ordered() {
		s.columns[slot(kv[0], kv[1])] = c.ID
		s.aliases[slot(kv[0], kv[1])] = c.ID
	}
	return c
}

// fillIn writes the keys c lacks; a key that differs from one it has
// becomes an alias only, so a contact's primary keys never change.
func (s *Server) fillIn(c *Contact, keys identityKeys, patch map[string]any, now time.Time) {
	for _, kv := range keys.ordered() {
		kind, value := kv[0], kv[1]
		if owner, taken := s.columns[slot(kind, value)]; taken && owner != c.ID && kind != kindEmail {
			if o := s.contacts[owner]; o != nil && !o.Deleted && o.canonicalKey() == value {
				continue // another live contact's canonical key is not taken
			}
		}
		s.aliases[slot(kind, value)] = c.ID
		if col := c.column(kind); *col == "" {
			*col = value
			s.columns[slot(kind, value)] = c.ID
		}
	}
	c.Properties = mergeProperties(c.Properties, patch)
	c.LastSeenAt, c.UpdatedAt = now, now
}

// merge joins found into one survivor (§3.5) and returns it.
func (s *Server) merge(found []*Contact, keys identityKeys, patch map[string]any, now time.Time) *Contact {
	survivor := pickSurvivor(found)
	var losers []*Contact
	for _, c := range found {
		if c != survivor {
			losers = append(losers, c)
		}
	}
	props := map[string]any{}
	for _, l := range losers {
		props = mergeProperties(props, l.Properties)
	}
	props = mergeProperties(props, survivor.Properties)
	for _, l := range losers {
		s.softDelete(l, now, false)
		l.MergedInto = survivor.ID
		if l.FirstSeenAt.Before(survivor.FirstSeenAt) {
			survivor.FirstSeenAt = l.FirstSeenAt
		}
	}
	s.fillIn(survivor, keys, nil, now)
	for _, l := range losers {
		s.adoptLoser(survivor, l)
	}
	survivor.Properties = mergeProperties(props, patch)
	s.moveJourneyStates(losers, survivor, now)
	return survivor
}

// pickSurvivor: the one with a userId, then the earlier first seen, then
// the lower id.
func pickSurvivor(found []*Contact) *Contact {
	return slices.MinFunc(found, func(a, b *Contact) int {
		switch {
		case (a.ExternalID != "") != (b.ExternalID != ""):
			if a.ExternalID != "" {
				return -1
			}
			return 1
		case !a.FirstSeenAt.Equal(b.FirstSeenAt):
			return a.FirstSeenAt.Compare(b.FirstSeenAt)
		default:
			return strings.Compare(a.ID, b.ID)
		}
	})
}

// adoptLoser fills the survivor's missing keys from the loser and points
// every key of the loser at the survivor.
func (s *Server) adoptLoser(survivor, loser *Contact) {
	for _, kind := range []string{kindExternal, kindEmail, kindAnonymous} {
		value := *loser.column(kind)
		if value == "" {
			continue
		}
		if col := survivor.column(kind); *col == "" {
			*col = value
			s.columns[slot(kind, value)] = survivor.ID
		}
		s.aliases[slot(kind, value)] = survivor.ID
	}
	if loser.ExternalID == "" && loser.AnonymousID == "" {
		s.aliases[slot(kindExternal, loser.ID)] = survivor.ID
	}
	for k, id := range s.aliases {
		if id == loser.ID {
			s.aliases[k] = survivor.ID
		}
	}
}

// softDelete marks c deleted and frees its keys; dropAliases also removes
// every alias naming it (a delete does, a merge re-points them instead).
func (s *Server) softDelete(c *Contact, now time.Time, dropAliases bool) {
	c.Deleted, c.DeletedAt, c.UpdatedAt = true, now, now
	for _, kind := range []string{kindExternal, kindEmail, kindAnonymous} {
		if v := *c.column(kind); v != "" && s.columns[slot(kind, v)] == c.ID {
			delete(s.columns, slot(kind, v))
		}
	}
	if dropAliases {
		maps.DeleteFunc(s.aliases, func(_, id string) bool { return id == c.ID })
	}
}

// mergeProperties is jsonb_strip_nulls(base || patch): a shallow merge in
// which null removes a key (§3.4). base is not modified.
func mergeProperties(base, patch map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(patch))
	for k, v := range base {
		if v != nil {
			out[k] = v
		}
	}
	for k, v := range patch {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// targets are the live contacts a find or delete names: by column, else
// by alias, so a merged-away key finds its survivor. Called with s.mu held.
func (s *Server) targets(keys identityKeys) []*Contact {
	var out []*Contact
	for _, kv := range [][2]string{{kindEmail, keys.email}, {kindExternal, keys.external}} {
		if kv[1] == "" {
			continue
		}
		if c := s.findLive(kv[0], kv[1]); c != nil && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}
