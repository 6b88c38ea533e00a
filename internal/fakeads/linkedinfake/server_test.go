package linkedinfake

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

var testNow = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

const (
	emailDigest = "6a6c26195c3682faa816966af789717c3bfa834eee6c599d667d2b3429c27cfd"
	// The documented minimal example (docs/contracts/ad-platforms.md §5.2), with a complete li_fat_id.
	documentedExample = `{"conversion":"urn:lla:llaPartnerConversion:104012",` +
		`"conversionHappenedAt":1767225600000,` +
		`"conversionValue":{"currencyCode":"USD","amount":"100.00"},` +
		`"eventId":"ord_123",` +
		`"user":{"userIds":[{"idType":"SHA256_EMAIL","idValue":"` + emailDigest + `"},` +
		`{"idType":"LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID","idValue":"a1b2c3d4-e5f6-4789-abcd-ef0123456789"}],` +
		`"userInfo":{"firstName":"Mike","lastName":"Smith","companyName":"Acme","title":"CTO","countryCode":"US"}}}`
)

func newFake(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s := New(append([]Option{WithClock(func() time.Time { return testNow })}, opts...)...)
	t.Cleanup(s.Close)
	return s
}

func validHeaders() http.Header {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+DefaultToken)
	h.Set("LinkedIn-Version", "202603")
	h.Set("X-Restli-Protocol-Version", "2.0.0")
	h.Set("Content-Type", "application/json")
	return h
}

func do(t *testing.T, s *Server, method, path string, h http.Header, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(t *testing.T, s *Server, h http.Header, body string) (int, string) {
	t.Helper()
	return do(t, s, http.MethodPost, Path, h, body)
}

func batch(elements ...string) string { return `{"elements":[` + strings.Join(elements, ",") + `]}` }

func batchHeaders() http.Header {
	h := validHeaders()
	h.Set("X-RestLi-Method", "BATCH_CREATE")
	return h
}

// withEventID returns the documented example with another eventId.
func withEventID(id string) string {
	return strings.Replace(documentedExample, `"ord_123"`, `"`+id+`"`, 1)
}

func TestAcceptsDocumentedExample(t *testing.T) {
	s := newFake(t)
	status, body := post(t, s, validHeaders(), documentedExample)
	if status != http.StatusCreated || body != "" {
		t.Fatalf("got %d %q, want 201 with no body", status, body)
	}
	if got := s.Ledger.Keys(); len(got) != 1 || got[0] != "urn:lla:llaPartnerConversion:104012|ord_123" {
		t.Fatalf("ledger keys %v", got)
	}
	if reqs := s.Requests(); len(reqs) != 1 || reqs[0].Status != http.StatusCreated || string(reqs[0].Body) != documentedExample {
		t.Fatalf("recorded %+v", reqs)
	}
	if r := s.Rejections(); len(r) != 0 {
		t.Fatalf("rejections %+v", r)
	}
}

func TestDedupOnEventID(t *testing.T) {
	s := newFake(t)
	for i := 0; i < 2; i++ {
		if status, body := post(t, s, validHeaders(), documentedExample); status != http.StatusCreated {
			t.Fatalf("send %d: %d %s", i, status, body)
		}
	}
	if s.Ledger.Unique() != 1 || s.Ledger.Duplicates() != 1 {
		t.Fatalf("unique %d duplicates %d, want 1 and 1", s.Ledger.Unique(), s.Ledger.Duplicates())
	}
}

func TestBatchCreate(t *testing.T) {
	s := newFake(t)
	status, body := post(t, s, batchHeaders(), batch(withEventID("a"), withEventID("b"), withEventID("a")))
	if status != http.StatusOK || strings.TrimSpace(body) != `{"elements":[{"status":201},{"status":201},{"status":201}]}` {
		t.Fatalf("got %d %s", status, body)
	}
	if s.Ledger.Unique() != 2 || s.Ledger.Duplicates() != 1 {
		t.Fatalf("unique %d duplicates %d", s.Ledger.Unique(), s.Ledger.Duplicates())
	}
	// Lower-case method header, as Rest.li clients also send it.
	h := validHeaders()
	h.Set("X-RestLi-Method", "batch_create")
	if status, body := post(t, s, h, batch(withEventID("c"))); status != http.StatusOK {
		t.Fatalf("lower-case batch_create: %d %s", status, body)
	}
}

// A batch is all or nothing: one bad element refuses it, naming its index.
func TestBatchOneBadElement(t *testing.T) {
	s := newFake(t)
	bad := strings.Replace(withEventID("b"), emailDigest, "buyer@example.com", 1)
	status, body := post(t, s, batchHeaders(), batch(withEventID("a"), bad, withEventID("c")))
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `Index: 1, ERROR :: /user/userIds/0/idValue`) {
		t.Fatalf("got %d %s", status, body)
	}
	if strings.Contains(body, "Index: 0") || strings.Contains(body, "Index: 2") {
		t.Fatalf("good elements named: %s", body)
	}
	if s.Ledger.Unique() != 0 {
		t.Fatalf("ledger counted %d from a refused batch", s.Ledger.Unique())
	}
	r := s.Rejections()
	if len(r) != 1 || r[0].Index != 1 || r[0].Field != "/user/userIds/0/idValue" {
		t.Fatalf("rejections %+v", r)
	}
}

func TestOversizeBatch(t *testing.T) {
	s := newFake(t)
	els := make([]string, MaxBatch+1)
	for i := range els {
		els[i] = withEventID(fmt.Sprintf("e%d", i))
	}
	status, body := post(t, s, batchHeaders(), batch(els...))
	if status != http.StatusBadRequest || !strings.Contains(body, "exceeds the maximum of 5000") {
		t.Fatalf("got %d %.200s", status, body)
	}
	if s.Ledger.Unique() != 0 {
		t.Fatal("oversize batch counted")
	}
	// Exactly the limit is fine.
	if status, body := post(t, s, batchHeaders(), batch(els[:MaxBatch]...)); status != http.StatusOK {
		t.Fatalf("batch of %d: %d %.200s", MaxBatch, status, body)
	}
	if s.Ledger.Unique() != MaxBatch {
		t.Fatalf("counted %d", s.Ledger.Unique())
	}
}

// Scripted faults come before any validation, even of the token.
func TestScriptBeforeValidation(t *testing.T) {
	s := newFake(t)
	s.Script.Push(RateLimited(7))
	status, _ := do(t, s, http.MethodGet, "/nowhere", http.Header{}, "")
	if status != http.StatusTooManyRequests {
		t.Fatalf("got %d, want the scripted 429", status)
	}
	if reqs := s.Requests(); len(reqs) != 1 || reqs[0].Status != http.StatusTooManyRequests {
		t.Fatalf("recorded %+v", reqs)
	}
	if status, _ := post(t, s, validHeaders(), documentedExample); status != http.StatusCreated {
		t.Fatalf("after the script: %d", status)
	}
}

func TestRejects(t *testing.T) {
	type tc struct {
		name   string
		opts   []Option
		method string
		path   string
		header func(h http.Header)
		body   string
		status int
		want   string // substring of the answer
	}
	replace := func(old, new string) string {
		if !strings.Contains(documentedExample, old) {
			panic("example lacks " + old)
		}
		return strings.Replace(documentedExample, old, new, 1)
	}
	oldMs := fmt.Sprint(testNow.Add(-MaxAge - time.Hour).UnixMilli())
	cases := []tc{
		{name: "missing auth header", header: func(h http.Header) { h.Del("Authorization") },
			status: 401, want: "INVALID_ACCESS_TOKEN"},
		{name: "wrong token", header: func(h http.Header) { h.Set("Authorization", "Bearer nope") },
			status: 401, want: "INVALID_ACCESS_TOKEN"},
		{name: "token without Bearer", header: func(h http.Header) { h.Set("Authorization", DefaultToken) },
			status: 401, want: "INVALID_ACCESS_TOKEN"},
		{name: "missing version", header: func(h http.Header) { h.Del("LinkedIn-Version") },
			status: 426, want: "NONEXISTENT_VERSION"},
		{name: "version with day", header: func(h http.Header) { h.Set("LinkedIn-Version", "20250401") },
			status: 426, want: "Requested version 20250401 is not active"},
		{name: "version month 13", header: func(h http.Header) { h.Set("LinkedIn-Version", "202513") },
			status: 426, want: "NONEXISTENT_VERSION"},
		{name: "sunset version", opts: []Option{WithInactiveVersions("202603")},
			status: 426, want: "Requested version 202603 is not active"},
		{name: "missing protocol version", header: func(h http.Header) { h.Del("X-Restli-Protocol-Version") },
			status: 400, want: "X-Restli-Protocol-Version"},
		{name: "not json content type", header: func(h http.Header) { h.Set("Content-Type", "text/plain") },
			status: 415, want: "Content-Type"},
		{name: "wrong method", method: http.MethodPut, status: 405, want: "method PUT"},
		{name: "wrong path", path: "/v2/conversionEvents", status: 404, want: "no resource"},
		{name: "unknown restli method", header: func(h http.Header) { h.Set("X-RestLi-Method", "BATCH_UPDATE") },
			status: 400, want: "X-RestLi-Method"},
		{name: "not json", body: "{", status: 400, want: "not a JSON object"},
		{name: "unhashed email", body: replace(emailDigest, "buyer@example.com"),
			status: 422, want: "Index: 0, ERROR :: /user/userIds/0/idValue :: SHA256_EMAIL must be 64 lower-case hex"},
		{name: "upper-case digest", body: replace(emailDigest, strings.ToUpper(emailDigest)),
			status: 422, want: "SHA256_EMAIL must be 64 lower-case hex"},
		{name: "sha256 of empty", body: replace(emailDigest, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
			status: 422, want: "sha256 of the empty string"},
		{name: "time in seconds", body: replace("1767225600000", "1767225600"),
			status: 422, want: "10 digits; epoch milliseconds have 13"},
		{name: "time in microseconds", body: replace("1767225600000", "1767225600000000"),
			status: 422, want: "16 digits"},
		{name: "time as string", body: replace("1767225600000", `"1767225600000"`),
			status: 422, want: "not an integer epoch in milliseconds"},
		{name: "time as float", body: replace("1767225600000", "1767225600000.5"),
			status: 422, want: "not an integer epoch"},
		{name: "time older than 90 days", body: replace("1767225600000", oldMs),
			status: 422, want: "more than 90 days ago"},
		{name: "missing time", body: replace(`"conversionHappenedAt":1767225600000,`, ""),
			status: 422, want: "/conversionHappenedAt :: field is required"},
		{name: "amount as number", body: replace(`"amount":"100.00"`, `"amount":100.00`),
			status: 422, want: "/conversionValue/amount :: 100.00 is not a string"},
		{name: "missing amount", body: replace(`,"amount":"100.00"`, ""),
			status: 422, want: "/conversionValue/amount :: field is required but not found"},
		{name: "lower-case currency", body: replace(`"USD"`, `"usd"`),
			status: 422, want: "/conversionValue/currencyCode"},
		{name: "userInfo with one name", body: replace(`"firstName":"Mike",`, ""),
			status: 422, want: "Index: 0, ERROR :: /user/userInfo/firstName :: field is required"},
		{name: "hashed first name", body: replace(`"Mike"`, `"`+emailDigest+`"`),
			status: 422, want: "/user/userInfo/firstName :: is plain text, not a hash"},
		{name: "lower-case country", body: replace(`"US"`, `"us"`),
			status: 422, want: "/user/userInfo/countryCode"},
		{name: "userInfo alone", body: replace(documentedExample[strings.Index(documentedExample, `[{"idType"`):strings.Index(documentedExample, `],"userInfo"`)+1], `[]`),
			status: 422, want: "/user/userIds :: at least one user id is required"},
		{name: "userIds missing", body: `{"conversion":"urn:lla:llaPartnerConversion:1","conversionHappenedAt":1767225600000,"eventId":"x","user":{}}`,
			status: 422, want: "/user/userIds :: field is required"},
		{name: "user missing", body: `{"conversion":"urn:lla:llaPartnerConversion:1","conversionHappenedAt":1767225600000,"eventId":"x"}`,
			status: 422, want: "/user :: field is required"},
		{name: "hashed li_fat_id", body: replace("a1b2c3d4-e5f6-4789-abcd-ef0123456789", emailDigest),
			status: 422, want: "li_fat_id must be sent plain"},
		{name: "unknown id type", body: replace(`"SHA256_EMAIL"`, `"SHA256_PHONE"`),
			status: 422, want: `/user/userIds/0/idType :: \"SHA256_PHONE\" is not one of the symbols`},
		{name: "bad urn", body: replace("urn:lla:llaPartnerConversion:104012", "104012"),
			status: 422, want: `/conversion :: \"104012\" is not a valid urn`},
		{name: "rule not a CONVERSIONS_API rule", opts: []Option{WithConversionRules("1")},
			status: 400, want: "Conversion's method should be CONVERSIONS_API, indices [0] (0-indexed)"},
		{name: "unknown field", body: replace(`"eventId"`, `"eventID":"x","eventId"`),
			status: 422, want: "/eventID :: unrecognized field"},
		{name: "event id too long", body: replace("ord_123", strings.Repeat("x", 65)),
			status: 422, want: "/eventId :: length 65"},
		{name: "externalIds before 202410", header: func(h http.Header) { h.Set("LinkedIn-Version", "202409") },
			body: replace(`"userInfo"`, `"externalIds":["u1"],"userInfo"`), status: 422, want: "/user/externalIds :: unrecognized field"},
		{name: "batch body without BATCH_CREATE", body: batch(documentedExample),
			status: 422, want: "/elements :: unrecognized field"},
		{name: "single body with BATCH_CREATE", header: func(h http.Header) { h.Set("X-RestLi-Method", "BATCH_CREATE") },
			status: 400, want: `unrecognized field \"conversion\" in a BATCH_CREATE body`},
		{name: "empty batch", header: func(h http.Header) { h.Set("X-RestLi-Method", "BATCH_CREATE") },
			body: `{"elements":[]}`, status: 400, want: "elements must not be empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newFake(t, c.opts...)
			h := validHeaders()
			if c.header != nil {
				c.header(h)
			}
			method, path, body := http.MethodPost, Path, documentedExample
			if c.method != "" {
				method = c.method
			}
			if c.path != "" {
				path = c.path
			}
			if c.body != "" {
				body = c.body
			}
			status, got := do(t, s, method, path, h, body)
			if status != c.status || !strings.Contains(got, c.want) {
				t.Fatalf("got %d %s\nwant %d containing %q", status, got, c.status, c.want)
			}
			if !strings.Contains(got, fmt.Sprintf(`"status":%d`, c.status)) {
				t.Fatalf("body lacks LinkedIn's status field: %s", got)
			}
			if s.Ledger.Unique() != 0 {
				t.Fatal("a refused request was counted")
			}
			if len(s.Rejections()) == 0 {
				t.Fatal("refusal not listed in Rejections")
			}
		})
	}
}

// The fault helpers answer exactly as LinkedIn does.
func TestFaultBodies(t *testing.T) {
	s := newFake(t)
	f := func(fault fakeads.Fault, status int, want string) {
		t.Helper()
		s.Script.Push(fault)
		got, body := post(t, s, validHeaders(), documentedExample)
		if got != status || body != want {
			t.Fatalf("got %d %s, want %d %s", got, body, status, want)
		}
	}
	f(VersionSunset("202401"), 426, `{"status":426,"code":"NONEXISTENT_VERSION","message":"Requested version 202401 is not active"}`)
	f(RevokedToken(), 401, `{"status":401,"serviceErrorCode":65601,"code":"REVOKED_ACCESS_TOKEN","message":"The token used in the request has been revoked by the user"}`)
	f(ElementStatuses(201, 400), 200, `{"elements":[{"status":201},{"status":400,"error":{"status":400,"message":"Bad Request"}}]}`)
	f(Unprocessable("Index: 0, ERROR :: /x :: y\n"), 422, `{"status":422,"message":"Index: 0, ERROR :: /x :: y\n"}`)
}
