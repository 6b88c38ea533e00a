package fakeengine

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestClientCalls: every @hogsend/client call shape gets a validated answer
// with the fields the SDK reads, straight from the fake.
func TestClientCalls(t *testing.T) {
	f := start(t, Options{Journeys: []Journey{onboarding}})
	keys := ClientKeys{Ingest: f.ingest, Admin: f.admin, Referrals: f.MintKey(ScopeReferrals)}
	seed := f.send("PUT", "/v1/contacts", f.ingest, `{"email":"ada@example.com","userId":"u_sdk"}`).json(t)
	vars := map[string]string{"contactId": seed["id"].(string)}
	calls := ClientCalls()
	for _, c := range calls {
		req, err := c.Request(f.URL(), keys, vars)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := c.Check(resp.StatusCode, resp.Header.Get("Content-Type"), body, vars); err != nil {
			t.Fatal(err)
		}
		if !c.Raw && c.Name != "contacts.find" && !strings.Contains(c.Name, "list") {
			golden(t, "sdk_"+c.Name, string(body))
		}
	}
	if len(calls) != 41 {
		t.Fatalf("%d calls, want 41: every resource method that makes a request (links.qrUrl makes none)", len(calls))
	}
	if got := f.ReceivedOn("POST /v1/events"); got != 2 {
		t.Fatalf("events route counted %d", got)
	}
}
