package posthog

import (
	"strings"
	"testing"
)

func TestPeekToken(t *testing.T) {
	f := func(text, want string, wantOK bool) {
		t.Helper()
		got, ok := PeekToken([]byte(text), Limits{})
		if got != want || ok != wantOK {
			t.Fatalf("PeekToken(%s) = %q, %v; want %q, %v", shorten(text), got, ok, want, wantOK)
		}
		if p, err := ParsePayload([]byte(text), "/batch/"); ok && err == nil && p.Token != got {
			t.Fatalf("PeekToken(%s) = %q, the parse resolves %q", shorten(text), got, p.Token)
		}
	}
	ev := `{"event":"e","distinct_id":"d"}`
	// a batch: its first token key decides when it is a non-blank string
	f(`{"api_key":" phc_a ","batch":[`+ev+`]}`, "phc_a", true)
	f(`{"batch":[`+ev+`],"token":"phc_a"}`, "phc_a", true)
	f(`{"batch":[{"event":"e","distinct_id":"d","token":"phc_b"}],"sent_at":"x"}`, "", false)
	f(`{"api_key":"  ","token":"phc_b","batch":[`+ev+`]}`, "", false)
	f(`{"api_key":null,"token":"phc_b","batch":[`+ev+`]}`, "", false)
	f(`{"$token":"phc_a","api_key":"phc_b","batch":[`+ev+`]}`, "", false)
	// one event: token, $token or api_key, else properties.token
	f(`{"event":"e","distinct_id":"d","properties":{"token":"phc_p"}}`, "phc_p", true)
	f(`{"event":"e","distinct_id":"d","properties":{"token":"phc_p"},"api_key":"phc_a"}`, "phc_a", true)
	f(`{"event":"e","distinct_id":"d","properties":{"token":"phc_p"},"properties":{"token":"phc_q"}}`, "phc_p", true)
	f(`{"event":"e","distinct_id":"d","properties":{"token":7}}`, "", false)
	f(`{"event":"e","distinct_id":"d","batch":null,"properties":{"token":"phc_p"}}`, "phc_p", true)
	// an array: its first event's token, which the others must share
	f(`[{"event":"e","distinct_id":"d","properties":{"token":"phc_p"}},`+ev+`]`, "phc_p", true)
	f(`[{"event":"e","distinct_id":"d","$token":" ","api_key":"phc_a","properties":{"token":"phc_p"}}]`, "phc_a", true)
	f(`[`+ev+`,{"event":"e","distinct_id":"d","token":"phc_b"}]`, "", false)
	f(`[1]`, "", false)
	f(`"x"`, "", false)
	f(``, "", false)
	// an oversize first event is dropped: its token does not count
	big := `{"event":"e","distinct_id":"d","token":"phc_big","properties":{"pad":"` + strings.Repeat("x", DefaultMaxEventBytes) + `"}}`
	f(`[`+big+`,{"event":"e","distinct_id":"d","token":"phc_b"}]`, "", false)
}

// TestPeekTokenAgreesOnRecordedTraffic: every recorded request's token is
// settled by the peek, and it is the one the parse resolves.
func TestPeekTokenAgreesOnRecordedTraffic(t *testing.T) {
	for _, r := range dumpRequests(t) {
		p, err := ParsePayload(r.text, r.in.Path)
		if err != nil {
			t.Fatalf("line %d: %v", r.n, err)
		}
		if tok, ok := PeekToken(r.text, Limits{}); !ok || tok != p.Token {
			t.Fatalf("line %d (%s): peeked %q, %v; parsed %q", r.n, r.line.Path, tok, ok, p.Token)
		}
	}
}
