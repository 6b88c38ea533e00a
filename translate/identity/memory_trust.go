package identity

import (
	"slices"

	"github.com/google/uuid"

	"github.com/hogsend/hogsend-proxy/translate/canonical"
)

// trustGate is what an op's Trust allows, decided once its contacts are
// looked up (docs/identity-trust.md). lua/resolve.lua decides the same.
type trustGate struct {
	refuseFrom bool // MergeFrom's contact may not join
	readOnly   bool // the op resolves the target side without writing
	noPromote  bool // Identify may not write Distinct as an external key
	unproven   bool // the op asked for something refused
}

// gate applies the trust rules to the target side matched (Distinct's
// contact t first) and MergeFrom's contact src.
func (m *Memory) gate(op *ResolveOp, p *prepared, t, src *memContact, matched []*memContact) trustGate {
	var g trustGate
	if op.Trust == TrustFull {
		return g
	}
	proven := m.provenContact(p)
	sideIdentified, unprovenSide, otherExt := false, false, false
	for _, c := range matched {
		if identified(c) {
			sideIdentified = true
			unprovenSide = unprovenSide || c != proven
		}
		if c.c.ExternalID != "" && c.c.ExternalID != p.distinct && c != proven {
			otherExt = true
		}
	}
	if op.Trust == TrustVerified && unprovenSide && writes(op, p) {
		g.readOnly, g.unproven = true, true
		return g
	}
	if src != nil && !slices.Contains(matched, src) && identified(src) && (src != proven || sideIdentified) {
		g.refuseFrom, g.unproven = true, true
	}
	if op.Identify {
		if op.Trust == TrustVerified {
			g.noPromote = p.provenUser != p.distinct
		} else {
			g.noPromote = otherExt
		}
		// Unproven only when the promotion would have written something.
		if g.noPromote && (t == nil || m.aliasLive(canonical.KindExternal, p.distinct) != t) {
			g.unproven = true
		}
	}
	return g
}

// provenContact is the live contact ProvenUser's external key resolves to.
func (m *Memory) provenContact(p *prepared) *memContact {
	if p.provenUser == "" {
		return nil
	}
	return m.aliasLive(canonical.KindExternal, p.provenUser)
}

// identified reports a contact with an external id or an email.
func identified(c *memContact) bool { return c.c.ExternalID != "" || c.c.Email != "" }

// writes reports whether op would change a contact it resolves, beyond its
// last-seen time.
func writes(op *ResolveOp, p *prepared) bool {
	return op.Identify || p.mergeFrom != "" || p.emailClaim != "" ||
		len(op.Set)+len(op.SetOnce)+len(op.Unset) > 0 || p.keys != (opKeys{})
}

// readOnly resolves c without changing it, as a gated op does.
func (m *Memory) readOnly(c *memContact, r *ResolveResult) {
	r.Found, r.Linked, r.Unproven = true, true, true
	r.Contact = c.result()
}

// claimEmail makes EmailClaim the email key of the op's contact where it
// has none and no live contact holds it; under TrustVerified only on the
// proven contact.
func (m *Memory) claimEmail(op *ResolveOp, p *prepared, now int64, r *ResolveResult) {
	c := m.contacts[r.Contact.ID]
	e := p.emailClaim
	if e == "" || !r.Found || c == nil || c.c.Email != "" || m.aliasLive(canonical.KindEmail, e) != nil {
		return
	}
	if op.Trust == TrustVerified && m.provenContact(p) != c {
		r.Unproven = true
		return
	}
	reason := canonical.ReasonPromote
	if r.Created {
		reason = canonical.ReasonResolve
	}
	c.c.Email = e
	m.setAlias(r, Key{canonical.KindEmail, e}, c, uuid.Nil, reason, c.c.Version, now)
	r.Contact = c.result()
}
