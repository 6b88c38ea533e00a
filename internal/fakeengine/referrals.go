package fakeengine

import (
	"net/http"
	"strconv"
)

// touchReferral is POST /v1/referrals/touch: a referrer (contact id, key
// or slug) and a referee; a repeated pair answers created:false.
func (s *Server) touchReferral(c *call) answer {
	sc, bad := parsed(c)
	if bad != nil {
		return *bad
	}
	referral, _ := sc.str("referral", 1, 0)
	referrerID, _ := sc.str("referrerContactId", 1, 0)
	referrerKey, _ := sc.str("referrerKey", 1, 0)
	slug, _ := sc.str("slug", 1, 0)
	refereeID, _ := sc.str("refereeContactId", 1, 0)
	refereeKey, _ := sc.str("refereeKey", 1, 0)
	sc.str("source", 0, 0)
	sc.record("properties")
	sc.str("idempotencyKey", 0, 0)
	if sc.failed() {
		return sc.answer()
	}
	referrer := firstOf(referrerID, referrerKey, slug)
	referee := firstOf(refereeID, refereeKey)
	if referrer == "" || referee == "" {
		return refuse(http.StatusBadRequest, "a referrer and a referee are required")
	}
	pair := referral + "|" + referrer + "|" + referee
	s.mu.Lock()
	created := !s.others.referralKeys[pair]
	s.others.referralKeys[pair] = true
	s.mu.Unlock()
	return ok(http.StatusOK, map[string]any{"created": created, "bound": refereeID != "",
		"edge": map[string]any{"referral": nullable(referral), "referrer": referrer, "referee": referee}})
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// referralReport is GET /v1/referrals/report: no conversions in the fake.
func (s *Server) referralReport(c *call) answer {
	q := c.r.URL.Query()
	if d := q.Get("depth"); d != "" {
		if n, err := strconv.Atoi(d); err != nil || n < 1 || n > 5 {
			return refuse(http.StatusBadRequest, "depth must be an integer 1-5")
		}
	}
	return ok(http.StatusOK, map[string]any{"rows": []any{}, "totals": []any{}, "nextCursor": nil})
}

// referralTree is GET /v1/referrals/tree/:id: an unknown key is an empty tree.
func (s *Server) referralTree(c *call) answer {
	return ok(http.StatusOK, map[string]any{"root": pathParam(c, "id"), "nodes": []any{}})
}

// importReferrals is POST /v1/referrals/import: at most 1000 rows, silent.
func (s *Server) importReferrals(c *call) answer {
	sc, bad := parsed(c)
	if bad != nil {
		return *bad
	}
	sc.str("referral", 1, 0)
	rows, has := sc.array("touches")
	if !has && !sc.failed() {
		sc.issues = append(sc.issues, typeIssueOf([]string{"touches"}, "array", "undefined"))
	}
	if len(rows) > 1000 {
		sc.custom([]string{"touches"}, "at most 1000 touches per call")
	}
	if sc.failed() {
		return sc.answer()
	}
	return ok(http.StatusOK, map[string]int{"inserted": 0, "existing": 0, "skipped": len(rows)})
}
