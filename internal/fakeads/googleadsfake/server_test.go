package googleadsfake_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
	"github.com/hogsend/hogsend-proxy/internal/fakeads/googleadsfake"
)

var now = time.Date(2025, 1, 2, 12, 0, 0, 0, time.UTC)

const (
	hashedEmail = "3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586"
	hashedPhone = "1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8"
	action      = "customers/1231231234/conversionActions/123456789"
	uploadPath  = "/v24/customers/1231231234:uploadClickConversions"
)

func newFake(t testing.TB, opts ...googleadsfake.Option) *googleadsfake.Server {
	t.Helper()
	s := googleadsfake.New(append([]googleadsfake.Option{googleadsfake.WithClock(func() time.Time { return now })}, opts...)...)
	t.Cleanup(s.Close)
	return s
}

func postForm(t testing.TB, target string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(target, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func tokenForm() url.Values {
	return url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {googleadsfake.DefaultClientID},
		"client_secret": {googleadsfake.DefaultClientSecret},
		"refresh_token": {googleadsfake.DefaultRefreshToken},
	}
}

func accessToken(t testing.TB, s *googleadsfake.Server) string {
	t.Helper()
	status, m := postForm(t, s.TokenURL(), tokenForm())
	if status != http.StatusOK {
		t.Fatalf("token: HTTP %d %v", status, m)
	}
	return m["access_token"].(string)
}

// call is one upload request; zero fields take valid defaults.
type call struct {
	method, path, contentType string
	header                    map[string]string // "" value deletes the header
	body                      any               // string or a JSON-encodable value
}

func (s call) do(t testing.TB, srv *googleadsfake.Server, tok string) (int, []byte) {
	t.Helper()
	method, path, ct := "POST", uploadPath, "application/json"
	if s.method != "" {
		method = s.method
	}
	if s.path != "" {
		path = s.path
	}
	if s.contentType != "" {
		ct = s.contentType
	}
	var body string
	switch b := s.body.(type) {
	case string:
		body = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = string(raw)
	}
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("developer-token", googleadsfake.DefaultDeveloperToken)
	for k, v := range s.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// conv is a valid conversion; edit mutates it.
func conv(edit func(c map[string]any)) map[string]any {
	c := map[string]any{
		"conversionAction":   action,
		"conversionDateTime": "2025-01-01 00:00:00+00:00",
		"gclid":              "Cj0KCQiAtest",
		"userIdentifiers":    []any{map[string]any{"hashedEmail": hashedEmail}, map[string]any{"hashedPhoneNumber": hashedPhone}},
		"conversionValue":    100.0,
		"currencyCode":       "USD",
		"orderId":            "ord_123",
		"consent":            map[string]any{"adUserData": "GRANTED", "adPersonalization": "GRANTED"},
	}
	if edit != nil {
		edit(c)
	}
	return c
}

func upload(convs ...map[string]any) map[string]any {
	return map[string]any{"conversions": convs, "partialFailure": true}
}

func lastRejection(t *testing.T, s *googleadsfake.Server) googleadsfake.Rejection {
	t.Helper()
	r := s.Rejections()
	if len(r) == 0 {
		t.Fatal("no rejection recorded")
	}
	return r[len(r)-1]
}

func TestAcceptsValidUpload(t *testing.T) {
	s := newFake(t)
	status, body := call{body: upload(conv(nil))}.do(t, s, accessToken(t, s))
	if status != http.StatusOK {
		t.Fatalf("HTTP %d %s", status, body)
	}
	var ans struct {
		PartialFailureError json.RawMessage   `json:"partialFailureError"`
		Results             []json.RawMessage `json:"results"`
		JobID               string            `json:"jobId"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		t.Fatal(err)
	}
	if ans.PartialFailureError != nil || len(ans.Results) != 1 || ans.JobID == "" {
		t.Fatalf("answer %s", body)
	}
	if !strings.Contains(string(ans.Results[0]), `"gclid":"Cj0KCQiAtest"`) {
		t.Fatalf("result %s", ans.Results[0])
	}
	if s.Ledger.Unique() != 1 || len(s.Rejections()) != 0 {
		t.Fatalf("ledger %d, rejections %v", s.Ledger.Unique(), s.Rejections())
	}
}

func TestAcceptsSnakeCase(t *testing.T) {
	s := newFake(t)
	body := `{"conversions":[{"conversion_action":"` + action + `","conversion_date_time":"2025-01-01 00:00:00+00:00",` +
		`"gclid":"Cj0KCQiAtest","user_identifiers":[{"hashed_email":"` + hashedEmail + `"}],"conversion_value":"100","order_id":"o1"}],"partial_failure":true}`
	if status, raw := (call{body: body}).do(t, s, accessToken(t, s)); status != http.StatusOK || strings.Contains(string(raw), "partialFailureError") {
		t.Fatalf("HTTP %d %s", status, raw)
	}
	if s.Ledger.Unique() != 1 {
		t.Fatalf("ledger %d", s.Ledger.Unique())
	}
}

// Refusals of the whole request: status and the recorded code.
func TestRefusesRequests(t *testing.T) {
	many := make([]map[string]any, googleadsfake.MaxConversions+1)
	for i := range many {
		many[i] = conv(func(c map[string]any) { c["orderId"] = "o" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) })
	}
	f := func(name string, c call, wantStatus int, wantCode string) {
		t.Helper()
		s := newFake(t)
		if c.body == nil {
			c.body = upload(conv(nil))
		}
		status, body := c.do(t, s, accessToken(t, s))
		if status != wantStatus {
			t.Fatalf("%s: HTTP %d, want %d: %s", name, status, wantStatus, body)
		}
		if r := lastRejection(t, s); r.Code != wantCode || r.Row != -1 {
			t.Fatalf("%s: rejection %+v, want code %s", name, r, wantCode)
		}
		if s.Ledger.Unique() != 0 {
			t.Fatalf("%s: refused request recorded conversions", name)
		}
		var e struct {
			Error struct {
				Code   int    `json:"code"`
				Status string `json:"status"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &e) != nil || e.Error.Code != wantStatus || e.Error.Status == "" {
			t.Fatalf("%s: body is not a google.rpc.Status: %s", name, body)
		}
	}
	f("missing auth header", call{header: map[string]string{"Authorization": ""}}, 401, "UNAUTHENTICATED")
	f("basic auth", call{header: map[string]string{"Authorization": "Basic abc"}}, 401, "authenticationError.OAUTH_TOKEN_HEADER_INVALID")
	f("unknown token", call{header: map[string]string{"Authorization": "Bearer ya29.nope"}}, 401, "authenticationError.OAUTH_TOKEN_INVALID")
	f("missing developer-token", call{header: map[string]string{"developer-token": ""}}, 400, "requestError.DEVELOPER_TOKEN_PARAMETER_MISSING")
	f("wrong developer-token", call{header: map[string]string{"developer-token": "nope"}}, 401, "authenticationError.DEVELOPER_TOKEN_INVALID")
	f("unexpected login-customer-id", call{header: map[string]string{"login-customer-id": "9999999999"}}, 403, "authorizationError.INVALID_LOGIN_CUSTOMER_ID_SERVING_CUSTOMER_ID_COMBINATION")
	f("dashed login-customer-id", call{header: map[string]string{"login-customer-id": "999-999-9999"}}, 400, "headerError.INVALID_LOGIN_CUSTOMER_ID")
	f("GET", call{method: "GET"}, 404, "NOT_FOUND")
	f("unknown method path", call{path: "/v24/customers/1231231234:uploadCallConversions"}, 404, "NOT_FOUND")
	f("sunset version", call{path: "/v19/customers/1231231234:uploadClickConversions"}, 404, "requestError.UNSUPPORTED_VERSION")
	f("future version", call{path: "/v99/customers/1231231234:uploadClickConversions"}, 404, "NOT_FOUND")
	f("dashed customer id", call{path: "/v24/customers/123-123-1234:uploadClickConversions"}, 400, "requestError.INVALID_CUSTOMER_ID")
	f("other customer", call{path: "/v24/customers/9999999999:uploadClickConversions"}, 403, "authorizationError.USER_PERMISSION_DENIED")
	f("form body", call{contentType: "application/x-www-form-urlencoded"}, 400, "INVALID_ARGUMENT")
	f("not JSON", call{body: "conversions="}, 400, "INVALID_ARGUMENT")
	f("partialFailure missing", call{body: map[string]any{"conversions": []any{conv(nil)}}}, 400, "fieldError.REQUIRED")
	f("partialFailure a string", call{body: map[string]any{"conversions": []any{conv(nil)}, "partialFailure": "true"}}, 400, "INVALID_ARGUMENT")
	f("unknown top-level field", call{body: map[string]any{"conversions": []any{conv(nil)}, "partialFailure": true, "testEventCode": "x"}}, 400, "INVALID_ARGUMENT")
	f("empty conversions", call{body: map[string]any{"conversions": []any{}, "partialFailure": true}}, 400, "fieldError.REQUIRED_NONEMPTY_LIST")
	f("oversize batch", call{body: upload(many...)}, 400, "conversionUploadError.TOO_MANY_CONVERSIONS_IN_REQUEST")
	f("job id out of range", call{body: map[string]any{"conversions": []any{conv(nil)}, "partialFailure": true, "jobId": int64(1) << 31}}, 400, "conversionUploadError.INVALID_JOB_ID")
	f("unknown conversion field", call{body: upload(conv(func(c map[string]any) { c["eventName"] = "Purchase" }))}, 400, "INVALID_ARGUMENT")
	f("camel and snake of one field", call{body: upload(conv(func(c map[string]any) { c["order_id"] = "x" }))}, 400, "INVALID_ARGUMENT")
	// Epoch seconds as a JSON number is a type error for a string field.
	f("time as epoch number", call{body: upload(conv(func(c map[string]any) { c["conversionDateTime"] = 1735689600 }))}, 400, "INVALID_ARGUMENT")
	f("value as text", call{body: upload(conv(func(c map[string]any) { c["conversionValue"] = "a lot" }))}, 400, "INVALID_ARGUMENT")
	f("consent not an enum", call{body: upload(conv(func(c map[string]any) { c["consent"] = map[string]any{"adUserData": "YES"} }))}, 400, "INVALID_ARGUMENT")
	f("two identifiers in one", call{body: upload(conv(func(c map[string]any) {
		c["userIdentifiers"] = []any{map[string]any{"hashedEmail": hashedEmail, "hashedPhoneNumber": hashedPhone}}
	}))}, 400, "INVALID_ARGUMENT")
}

// Row problems: HTTP 200, a partial failure pointing at the row, {} in
// results, nothing recorded for the row.
func TestRowErrors(t *testing.T) {
	f := func(name string, edit func(c map[string]any), wantCode string) {
		t.Helper()
		s := newFake(t)
		good := conv(func(c map[string]any) { c["orderId"] = "good" })
		status, body := call{body: upload(good, conv(edit))}.do(t, s, accessToken(t, s))
		if status != http.StatusOK {
			t.Fatalf("%s: HTTP %d: %s", name, status, body)
		}
		var ans struct {
			PartialFailureError struct {
				Code    int `json:"code"`
				Details []struct {
					Type   string `json:"@type"`
					Errors []struct {
						ErrorCode map[string]string `json:"errorCode"`
						Location  struct {
							FieldPathElements []struct {
								FieldName string `json:"fieldName"`
								Index     *int   `json:"index"`
							} `json:"fieldPathElements"`
						} `json:"location"`
					} `json:"errors"`
				} `json:"details"`
			} `json:"partialFailureError"`
			Results []json.RawMessage `json:"results"`
		}
		if err := json.Unmarshal(body, &ans); err != nil {
			t.Fatal(err)
		}
		pf := ans.PartialFailureError
		if pf.Code != 3 || len(pf.Details) != 1 || len(pf.Details[0].Errors) == 0 || !strings.HasSuffix(pf.Details[0].Type, ".errors.GoogleAdsFailure") {
			t.Fatalf("%s: partialFailureError %s", name, body)
		}
		e := pf.Details[0].Errors[0]
		var got string
		for k, v := range e.ErrorCode {
			got = k + "." + v
		}
		el := e.Location.FieldPathElements
		if got != wantCode || len(el) == 0 || el[0].FieldName != "conversions" || el[0].Index == nil || *el[0].Index != 1 {
			t.Fatalf("%s: error %s at %+v, want %s at conversions[1]: %s", name, got, el, wantCode, body)
		}
		if len(ans.Results) != 2 || string(ans.Results[1]) != "{}" || string(ans.Results[0]) == "{}" {
			t.Fatalf("%s: results %s", name, body)
		}
		if r := lastRejection(t, s); r.Row != 1 || r.Status != 200 {
			t.Fatalf("%s: rejection %+v", name, r)
		}
		if s.Ledger.Unique() != 1 {
			t.Fatalf("%s: ledger %d, want only the good row", name, s.Ledger.Unique())
		}
	}
	ids := func(v ...map[string]any) func(c map[string]any) {
		return func(c map[string]any) {
			l := make([]any, len(v))
			for i := range v {
				l[i] = v[i]
			}
			c["userIdentifiers"] = l
		}
	}
	const invalid = "conversionUploadError.INVALID_USER_IDENTIFIER"
	f("unhashed email", ids(map[string]any{"hashedEmail": "john.smith@gmail.com"}), invalid)
	f("sha256 of empty", ids(map[string]any{"hashedEmail": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}), invalid)
	f("upper-case digest", ids(map[string]any{"hashedPhoneNumber": strings.ToUpper(hashedPhone)}), invalid)
	f("unhashed phone", ids(map[string]any{"hashedPhoneNumber": "+16505551212"}), invalid)
	f("empty identifier", ids(map[string]any{"userIdentifierSource": "FIRST_PARTY"}), invalid)
	f("address identifier", ids(map[string]any{"addressInfo": map[string]any{"city": "x"}}), "conversionUploadError.UNSUPPORTED_USER_IDENTIFIER")
	f("six identifiers", ids(map[string]any{"hashedEmail": hashedEmail}, map[string]any{"hashedEmail": hashedEmail}, map[string]any{"hashedEmail": hashedEmail},
		map[string]any{"hashedEmail": hashedEmail}, map[string]any{"hashedEmail": hashedEmail}, map[string]any{"hashedEmail": hashedEmail}), "collectionSizeError.TOO_MANY")
	const format = "dateError.INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET"
	f("time as epoch seconds string", func(c map[string]any) { c["conversionDateTime"] = "1735689600" }, format)
	f("time as epoch ms string", func(c map[string]any) { c["conversionDateTime"] = "1735689600000" }, format)
	f("time in RFC 3339", func(c map[string]any) { c["conversionDateTime"] = "2025-01-01T00:00:00Z" }, format)
	f("time without offset", func(c map[string]any) { c["conversionDateTime"] = "2025-01-01 00:00:00" }, format)
	f("time with milliseconds", func(c map[string]any) { c["conversionDateTime"] = "2025-01-01 00:00:00.000+00:00" }, format)
	f("impossible date", func(c map[string]any) { c["conversionDateTime"] = "2025-13-01 00:00:00+00:00" }, "dateError.INVALID_FIELD_VALUES_IN_DATE_TIME")
	// Seconds read as milliseconds land in January 1970.
	f("time from seconds read as ms", func(c map[string]any) { c["conversionDateTime"] = "1970-01-21 02:01:29+00:00" }, "conversionUploadError.EXPIRED_EVENT")
	f("time in the future", func(c map[string]any) { c["conversionDateTime"] = "2025-01-03 00:00:00+00:00" }, "dateError.LATER_THAN_MAXIMUM_DATE")
	f("older than 90 days", func(c map[string]any) { c["conversionDateTime"] = "2024-09-01 00:00:00+00:00" }, "conversionUploadError.EXPIRED_EVENT")
	f("gbraid and wbraid", func(c map[string]any) { delete(c, "gclid"); c["gbraid"] = "gbraid-1"; c["wbraid"] = "wbraid-1" }, "conversionUploadError.GBRAID_WBRAID_BOTH_SET")
	f("gclid and gbraid", func(c map[string]any) { c["gbraid"] = "gbraid-1" }, "fieldError.VALUE_MUST_BE_UNSET")
	f("hashed gclid", func(c map[string]any) { c["gclid"] = hashedEmail }, "conversionUploadError.UNPARSEABLE_GCLID")
	f("garbled gclid", func(c map[string]any) { c["gclid"] = "not a gclid" }, "conversionUploadError.UNPARSEABLE_GCLID")
	f("nothing to match", func(c map[string]any) { delete(c, "gclid"); delete(c, "userIdentifiers") }, "fieldError.REQUIRED")
	f("no conversion action", func(c map[string]any) { delete(c, "conversionAction") }, "fieldError.REQUIRED")
	f("malformed conversion action", func(c map[string]any) { c["conversionAction"] = "123456789" }, "requestError.RESOURCE_NAME_MALFORMED")
	f("unknown conversion action", func(c map[string]any) { c["conversionAction"] = "customers/1231231234/conversionActions/42" }, "conversionUploadError.NO_CONVERSION_ACTION_FOUND")
	f("email as order id", func(c map[string]any) { c["orderId"] = "john@example.com" }, "conversionUploadError.ORDER_ID_CONTAINS_PII")
	f("lower-case currency", func(c map[string]any) { c["currencyCode"] = "usd" }, "currencyCodeError.UNSUPPORTED")
	f("user ip address", func(c map[string]any) { c["userIpAddress"] = "203.0.113.9" }, "notAllowlistedError.CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE")
	f("custom variables", func(c map[string]any) {
		c["customVariables"] = []any{map[string]any{"conversionCustomVariable": "customers/1/conversionCustomVariables/2", "value": "x"}}
	}, "conversionUploadError.CUSTOM_VARIABLE_NOT_ENABLED")
}

func TestDedupByOrderID(t *testing.T) {
	s := newFake(t)
	tok := accessToken(t, s)
	for i := 0; i < 2; i++ {
		if status, body := (call{body: upload(conv(nil))}).do(t, s, tok); status != 200 {
			t.Fatalf("HTTP %d %s", status, body)
		}
	}
	if s.Ledger.Unique() != 1 || s.Ledger.Duplicates() != 1 {
		t.Fatalf("unique %d duplicates %d, want 1 and 1", s.Ledger.Unique(), s.Ledger.Duplicates())
	}
	if r := lastRejection(t, s); r.Code != "conversionUploadError.ORDER_ID_ALREADY_IN_USE" || r.Row != 0 {
		t.Fatalf("rejection %+v", r)
	}
	// The same order id twice in one request: neither is processed.
	s2 := newFake(t)
	status, body := call{body: upload(conv(nil), conv(nil))}.do(t, s2, accessToken(t, s2))
	if status != 200 || strings.Count(string(body), "DUPLICATE_ORDER_ID") != 2 || s2.Ledger.Unique() != 0 {
		t.Fatalf("HTTP %d %s, ledger %d", status, body, s2.Ledger.Unique())
	}
	// Without an order id, the click and the conversion time are the key.
	s3 := newFake(t)
	noOrder := conv(func(c map[string]any) { delete(c, "orderId") })
	tok3 := accessToken(t, s3)
	call{body: upload(noOrder)}.do(t, s3, tok3)
	_, body = call{body: upload(noOrder)}.do(t, s3, tok3)
	if !strings.Contains(string(body), "CLICK_CONVERSION_ALREADY_EXISTS") || s3.Ledger.Unique() != 1 {
		t.Fatalf("%s, ledger %d", body, s3.Ledger.Unique())
	}
}

func TestValidateOnlyRecordsNothing(t *testing.T) {
	s := newFake(t)
	body := map[string]any{"conversions": []any{conv(nil)}, "partialFailure": true, "validateOnly": true}
	status, raw := call{body: body}.do(t, s, accessToken(t, s))
	if status != 200 || strings.TrimSpace(string(raw)) != "{}" || s.Ledger.Unique() != 0 {
		t.Fatalf("HTTP %d %s, ledger %d", status, raw, s.Ledger.Unique())
	}
}

func TestWithoutPartialFailureOneBadRowRefusesAll(t *testing.T) {
	s := newFake(t)
	bad := conv(func(c map[string]any) {
		c["orderId"] = "b"
		c["userIdentifiers"] = []any{map[string]any{"hashedEmail": "plain@example.com"}}
	})
	body := map[string]any{"conversions": []any{conv(nil), bad}, "partialFailure": false}
	status, raw := call{body: body}.do(t, s, accessToken(t, s))
	if status != 400 || !strings.Contains(string(raw), "INVALID_USER_IDENTIFIER") || s.Ledger.Unique() != 0 {
		t.Fatalf("HTTP %d %s, ledger %d", status, raw, s.Ledger.Unique())
	}
}

func TestExpiredToken(t *testing.T) {
	s := newFake(t)
	tok := accessToken(t, s)
	s.ExpireTokens()
	status, _ := call{body: upload(conv(nil))}.do(t, s, tok)
	if r := lastRejection(t, s); status != 401 || r.Code != "authenticationError.OAUTH_TOKEN_EXPIRED" {
		t.Fatalf("HTTP %d, rejection %+v", status, r)
	}
	if status, _ := (call{body: upload(conv(nil))}).do(t, s, accessToken(t, s)); status != 200 {
		t.Fatalf("fresh token: HTTP %d", status)
	}
	if s.TokensIssued() != 2 {
		t.Fatalf("tokens issued %d", s.TokensIssued())
	}
}

func TestLoginCustomerIDRequiredWhenConfigured(t *testing.T) {
	s := newFake(t, googleadsfake.WithLoginCustomerID("5675675678"))
	tok := accessToken(t, s)
	if status, _ := (call{body: upload(conv(nil))}).do(t, s, tok); status != 403 {
		t.Fatalf("without header: HTTP %d", status)
	}
	if status, raw := (call{body: upload(conv(nil)), header: map[string]string{"login-customer-id": "5675675678"}}).do(t, s, tok); status != 200 {
		t.Fatalf("with header: HTTP %d %s", status, raw)
	}
}

func TestClickTiming(t *testing.T) {
	s := newFake(t)
	s.RegisterClick("Cj0KCQiAtest", now.Add(-time.Hour))
	_, body := call{body: upload(conv(func(c map[string]any) { c["conversionDateTime"] = "2025-01-02 11:30:00+00:00" }))}.do(t, s, accessToken(t, s))
	if !strings.Contains(string(body), "TOO_RECENT_EVENT") {
		t.Fatalf("%s", body)
	}
	s.RegisterClick("Cj0KCQiAlater", time.Date(2025, 1, 1, 6, 0, 0, 0, time.UTC))
	_, body = call{body: upload(conv(func(c map[string]any) { c["gclid"] = "Cj0KCQiAlater" }))}.do(t, s, accessToken(t, s))
	if !strings.Contains(string(body), "CONVERSION_PRECEDES_EVENT") {
		t.Fatalf("%s", body)
	}
}

func TestScriptAnswersBeforeValidation(t *testing.T) {
	s := newFake(t)
	s.Script.Push(googleadsfake.ResourceExhaustedFault("7", "30s"), googleadsfake.UnavailableFault())
	// No credentials at all: the scripted faults still come first.
	status, raw := call{header: map[string]string{"Authorization": ""}, body: "{}"}.do(t, s, "")
	if status != 429 || !strings.Contains(string(raw), "RESOURCE_EXHAUSTED") || !strings.Contains(string(raw), `"retryDelay":"30s"`) {
		t.Fatalf("HTTP %d %s", status, raw)
	}
	if status, _ := (call{body: "{}"}).do(t, s, ""); status != 503 {
		t.Fatalf("HTTP %d", status)
	}
	if reqs := s.Requests(); len(reqs) != 2 || reqs[0].Status != 429 || reqs[1].Status != 503 {
		t.Fatalf("recorded %+v", reqs)
	}
	s.Script.Down(fakeads.Fault{Status: 500})
	if status, _ := (call{body: "{}"}).do(t, s, ""); status != 500 {
		t.Fatalf("outage: HTTP %d", status)
	}
	s.Script.Up()
	if status, _ := (call{body: upload(conv(nil))}).do(t, s, accessToken(t, s)); status != 200 {
		t.Fatalf("after outage: HTTP %d", status)
	}
}

func TestTokenEndpointIsStrict(t *testing.T) {
	s := newFake(t)
	f := func(name string, form url.Values, wantStatus int, wantError string) {
		t.Helper()
		status, m := postForm(t, s.TokenURL(), form)
		if status != wantStatus || m["error"] != wantError {
			t.Fatalf("%s: HTTP %d %v, want %d %s", name, status, m, wantStatus, wantError)
		}
	}
	edit := func(k, v string) url.Values {
		f := tokenForm()
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	f("no grant_type", edit("grant_type", ""), 400, "invalid_request")
	f("password grant", edit("grant_type", "password"), 400, "unsupported_grant_type")
	f("no client_id", edit("client_id", ""), 400, "invalid_request")
	f("unknown client", edit("client_id", "other"), 401, "invalid_client")
	f("wrong secret", edit("client_secret", "other"), 401, "invalid_client")
	f("no refresh token", edit("refresh_token", ""), 400, "invalid_request")
	f("wrong refresh token", edit("refresh_token", "other"), 400, "invalid_grant")

	status, m := postForm(t, s.TokenURL(), tokenForm())
	if status != 200 || m["token_type"] != "Bearer" || m["expires_in"] != float64(3599) || !strings.HasPrefix(m["access_token"].(string), "ya29.") {
		t.Fatalf("HTTP %d %v", status, m)
	}
	resp, err := http.Get(s.TokenURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Fatalf("GET: HTTP %d", resp.StatusCode)
	}
	resp, err = http.Post(s.TokenURL(), "application/json", strings.NewReader(`{"grant_type":"refresh_token"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("JSON body: HTTP %d", resp.StatusCode)
	}
	s.RevokeRefreshToken()
	f("revoked", tokenForm(), 400, "invalid_grant")
	if len(s.TokenRequests()) != 11 || s.TokensIssued() != 1 {
		t.Fatalf("token requests %d, issued %d", len(s.TokenRequests()), s.TokensIssued())
	}
}

func TestPartialFailureFaultShape(t *testing.T) {
	f := googleadsfake.PartialFailureFault(3, map[int]googleadsfake.ErrorCode{1: googleadsfake.UploadError("TOO_RECENT_EVENT")})
	var ans struct {
		PartialFailureError struct {
			Details []struct {
				Errors []struct {
					Location struct {
						FieldPathElements []struct {
							FieldName string `json:"fieldName"`
							Index     int    `json:"index"`
						} `json:"fieldPathElements"`
					} `json:"location"`
				} `json:"errors"`
			} `json:"details"`
		} `json:"partialFailureError"`
		Results []json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal([]byte(f.Body), &ans); err != nil || f.Status != 200 {
		t.Fatalf("%v %s", err, f.Body)
	}
	el := ans.PartialFailureError.Details[0].Errors[0].Location.FieldPathElements[0]
	if el.FieldName != "conversions" || el.Index != 1 || string(ans.Results[1]) != "{}" || len(ans.Results) != 3 {
		t.Fatalf("%s", f.Body)
	}
}
