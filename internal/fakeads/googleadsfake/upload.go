package googleadsfake

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

var (
	uploadPath = regexp.MustCompile(`^/(v[0-9]+)/customers/([^/:]+):uploadClickConversions$`)
	tenDigits  = regexp.MustCompile(`^[0-9]{10}$`)
)

const requestID = "fake-request-id"

// uploadRequest is the validated top level of an upload.
type uploadRequest struct {
	conversions    []json.RawMessage
	partialFailure bool
	validateOnly   bool
	jobID          string // "" when the client set none
}

var requestFields = []string{"customerId", "conversions", "partialFailure", "validateOnly", "jobId", "debugEnabled"}

// upload checks the request as Google's front end and API would, in the
// order they do: route and version, customer id, credentials, headers,
// then the body; row problems become a partial failure.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, body []byte) {
	m := uploadPath.FindStringSubmatch(r.URL.Path)
	if r.Method != http.MethodPost || m == nil {
		// Google routes on method and path together: anything else is an
		// unknown URL.
		s.refuse(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("The requested URL %s %s was not found on this server.", r.Method, r.URL.Path), DefaultVersion)
		return
	}
	version, cid := m[1], m[2]
	if !slices.Contains(s.opts.versions, version) {
		if s.sunset(version) {
			s.refuse(w, http.StatusNotFound, "NOT_FOUND", "Version "+version+" is deprecated. Requests to this version will be blocked.", DefaultVersion,
				adsErr{code: ErrorCode{"requestError", "UNSUPPORTED_VERSION"}, message: "This API version has been sunset and is no longer supported."})
		} else {
			s.refuse(w, http.StatusNotFound, "NOT_FOUND", "The requested URL "+r.URL.Path+" was not found on this server.", DefaultVersion)
		}
		return
	}
	if !tenDigits.MatchString(cid) {
		s.refuse(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.", version,
			adsErr{code: ErrorCode{"requestError", "INVALID_CUSTOMER_ID"}, message: fmt.Sprintf("Invalid customer ID '%s'.", cid)})
		return
	}
	if !s.authorized(w, r, version) {
		return
	}
	if dev := r.Header.Get("developer-token"); dev == "" {
		s.refuse(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.", version,
			adsErr{code: ErrorCode{"requestError", "DEVELOPER_TOKEN_PARAMETER_MISSING"}, message: "The developer-token parameter is required for all requests."})
		return
	} else if dev != s.opts.developerToken {
		s.refuse(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request is missing required authentication credential.", version,
			adsErr{code: ErrorCode{"authenticationError", "DEVELOPER_TOKEN_INVALID"}, message: "The developer token is not valid."})
		return
	}
	login := r.Header.Get("login-customer-id")
	switch {
	case login != "" && !tenDigits.MatchString(login):
		s.refuse(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.", version,
			adsErr{code: ErrorCode{"headerError", "INVALID_LOGIN_CUSTOMER_ID"}, message: "The login customer ID could not be validated.", trigger: login})
		return
	case login != s.opts.loginCustomerID && login != "":
		s.refuse(w, http.StatusForbidden, "PERMISSION_DENIED", "The caller does not have permission", version,
			adsErr{code: ErrorCode{"authorizationError", "INVALID_LOGIN_CUSTOMER_ID_SERVING_CUSTOMER_ID_COMBINATION"}, message: "The login customer specified does not have access to the account specified, so the request is invalid."})
		return
	case login != s.opts.loginCustomerID || cid != s.opts.customerID:
		s.refuse(w, http.StatusForbidden, "PERMISSION_DENIED", "The caller does not have permission", version,
			adsErr{code: ErrorCode{"authorizationError", "USER_PERMISSION_DENIED"}, message: "User doesn't have permission to access customer. Note: If you're accessing a client customer, the manager's customer ID must be set in the 'login-customer-id' header."})
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		s.refuseJSON(w, &violation{"", "Invalid JSON payload received. Content-Type must be application/json, got " + strconv.Quote(r.Header.Get("Content-Type")) + "."})
		return
	}
	req, v, errs := parseRequest(body, cid)
	switch {
	case v != nil:
		s.refuseJSON(w, v)
		return
	case len(errs) > 0:
		s.refuse(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.", version, errs...)
		return
	}
	s.uploadRows(w, req, version)
}

// authorized checks the bearer token against those the token endpoint
// issued and still consider live.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request, version string) bool {
	h := r.Header.Get("Authorization")
	if h == "" {
		s.refuse(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.", version)
		return false
	}
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		s.refuse(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials.", version,
			adsErr{code: ErrorCode{"authenticationError", "OAUTH_TOKEN_HEADER_INVALID"}, message: "OAuth token HTTP header is malformed."})
		return false
	}
	s.mu.Lock()
	expiry, known := s.tokens[tok]
	s.mu.Unlock()
	switch {
	case !known:
		s.refuse(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", version,
			adsErr{code: ErrorCode{"authenticationError", "OAUTH_TOKEN_INVALID"}, message: "OAuth token in the header is not valid."})
		return false
	case !s.opts.now().Before(expiry):
		s.refuse(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", version,
			adsErr{code: ErrorCode{"authenticationError", "OAUTH_TOKEN_EXPIRED"}, message: "OAuth token in the header has expired."})
		return false
	}
	return true
}

// sunset reports whether version is older than every served one.
func (s *Server) sunset(version string) bool {
	n, err := strconv.Atoi(strings.TrimPrefix(version, "v"))
	if err != nil {
		return false
	}
	for _, v := range s.opts.versions {
		if m, err := strconv.Atoi(strings.TrimPrefix(v, "v")); err == nil && m <= n {
			return false
		}
	}
	return true
}

// parseRequest checks the top level: known fields in either spelling, their
// types, the required partialFailure key, the job id range and the row count.
func parseRequest(body []byte, cid string) (uploadRequest, *violation, []adsErr) {
	var req uploadRequest
	o, v := decodeObject(body, "", requestFields)
	if v != nil {
		return req, v, nil
	}
	if id, v := o.str("customerId"); v != nil {
		return req, v, nil
	} else if o.has("customerId") && id != cid {
		return req, nil, []adsErr{{code: ErrorCode{"requestError", "INVALID_CUSTOMER_ID"}, message: fmt.Sprintf("Invalid customer ID '%s'.", id), path: []pathElement{{"customer_id", -1}}}}
	}
	if _, v := o.boolean("debugEnabled"); v != nil {
		return req, v, nil
	}
	if req.partialFailure, v = o.boolean("partialFailure"); v != nil {
		return req, v, nil
	}
	if !o.has("partialFailure") {
		return req, nil, []adsErr{{code: ErrorCode{"fieldError", "REQUIRED"}, message: "The required field was not present.", path: []pathElement{{"partial_failure", -1}}}}
	}
	if req.validateOnly, v = o.boolean("validateOnly"); v != nil {
		return req, v, nil
	}
	if o.has("jobId") {
		id, v := o.integer("jobId")
		if v != nil {
			return req, v, nil
		}
		if id < 0 || id >= 1<<31 {
			return req, nil, []adsErr{{code: UploadError("INVALID_JOB_ID"), message: "The provided job id in the request is not within the allowed range. A job ID must be a positive integer in the range [1, 2^31).", path: []pathElement{{"job_id", -1}}}}
		}
		req.jobID = strconv.FormatInt(id, 10)
	}
	if req.conversions, v = o.array("conversions"); v != nil {
		return req, v, nil
	}
	switch n := len(req.conversions); {
	case n == 0:
		return req, nil, []adsErr{{code: ErrorCode{"fieldError", "REQUIRED_NONEMPTY_LIST"}, message: "The required repeated field was empty.", path: []pathElement{{"conversions", -1}}}}
	case n > MaxConversions:
		return req, nil, []adsErr{{code: UploadError("TOO_MANY_CONVERSIONS_IN_REQUEST"), message: "Upload fewer than 2001 events in a single request.", path: []pathElement{{"conversions", -1}}}}
	}
	return req, nil, nil
}

// result is ClickConversionResult for an accepted row.
type result struct {
	Gclid              string            `json:"gclid,omitempty"`
	Gbraid             string            `json:"gbraid,omitempty"`
	Wbraid             string            `json:"wbraid,omitempty"`
	ConversionAction   string            `json:"conversionAction"`
	ConversionDateTime string            `json:"conversionDateTime"`
	UserIdentifiers    []json.RawMessage `json:"userIdentifiers,omitempty"`
}

type uploadAnswer struct {
	PartialFailureError *jsonStatus       `json:"partialFailureError,omitempty"`
	Results             []json.RawMessage `json:"results,omitempty"`
	JobID               string            `json:"jobId,omitempty"`
}

// uploadRows checks every row, deduplicates against the request and the
// ledger, records what passed and answers: HTTP 200 with per-row errors
// under partialFailure, else all-or-nothing.
func (s *Server) uploadRows(w http.ResponseWriter, req uploadRequest, version string) {
	now := s.opts.now()
	rows := make([]row, len(req.conversions))
	for i, raw := range req.conversions {
		var v *violation
		if rows[i], v = s.checkRow(i, raw, now); v != nil {
			s.refuseJSON(w, v)
			return
		}
	}
	jobID := req.jobID
	if jobID == "" {
		jobID = s.nextJobID()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, len(rows))
	inRequest := map[string]int{}
	for i := range rows {
		keys[i] = rows[i].key(jobID, i)
		if len(rows[i].errs) == 0 {
			inRequest[keys[i]]++
		}
	}
	repeat := make([]bool, len(rows)) // already recorded by an earlier upload
	for i := range rows {
		rw := &rows[i]
		if len(rw.errs) > 0 {
			continue
		}
		byOrder := rw.orderID != ""
		switch {
		case inRequest[keys[i]] > 1 && byOrder:
			rw.fail(i, UploadError("DUPLICATE_ORDER_ID"), "Imported events include multiple conversions with the same order ID and were not processed.", "order_id", rw.orderID)
		case inRequest[keys[i]] > 1:
			rw.fail(i, UploadError("DUPLICATE_CLICK_CONVERSION_IN_REQUEST"), "Multiple events have the same click and conversion_date_time.", "conversion_date_time", rw.dateTime)
		case s.committed[keys[i]] && byOrder:
			rw.fail(i, UploadError("ORDER_ID_ALREADY_IN_USE"), "The imported event includes an order ID that was previously recorded, so the event was not processed.", "order_id", rw.orderID)
			repeat[i] = true
		case s.committed[keys[i]]:
			rw.fail(i, UploadError("CLICK_CONVERSION_ALREADY_EXISTS"), "The imported event has the same click and conversion_date_time as an existing conversion.", "conversion_date_time", rw.dateTime)
			repeat[i] = true
		}
	}

	var errs []adsErr
	for _, rw := range rows {
		errs = append(errs, rw.errs...)
	}
	if !req.partialFailure && len(errs) > 0 {
		// All or nothing: one bad row refuses the request.
		for _, e := range errs {
			s.rejections = append(s.rejections, Rejection{Status: http.StatusBadRequest, Row: e.row(), Code: e.code.String(), Message: e.message})
		}
		fakeads.WriteJSON(w, http.StatusBadRequest, rpcBody(http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.", failure(version, requestID, errs)))
		return
	}
	for _, e := range errs {
		s.rejections = append(s.rejections, Rejection{Status: http.StatusOK, Row: e.row(), Code: e.code.String(), Message: e.message})
	}

	var ans uploadAnswer
	if len(errs) > 0 {
		ans.PartialFailureError = &jsonStatus{Code: 3, Message: partialMessage(errs), Details: []jsonDetail{failure(version, requestID, errs)}}
	}
	if req.validateOnly {
		// Validated, not executed: no results, nothing recorded.
		fakeads.WriteJSON(w, http.StatusOK, ans)
		return
	}
	ans.JobID = jobID
	for i, rw := range rows {
		switch {
		case repeat[i]:
			s.Ledger.Accept(keys[i]) // counted as a duplicate arrival
		case len(rw.errs) == 0:
			s.committed[keys[i]] = true
			s.Ledger.Accept(keys[i])
		}
		if len(rw.errs) > 0 {
			ans.Results = append(ans.Results, json.RawMessage(`{}`))
			continue
		}
		b, _ := json.Marshal(result{
			Gclid: rw.gclid, Gbraid: rw.gbraid, Wbraid: rw.wbraid,
			ConversionAction: rw.action, ConversionDateTime: rw.dateTime, UserIdentifiers: rw.identifiers,
		})
		ans.Results = append(ans.Results, b)
	}
	fakeads.WriteJSON(w, http.StatusOK, ans)
}

// refuse answers an RPC-level error and records it.
func (s *Server) refuse(w http.ResponseWriter, status int, grpcStatus, message, version string, errs ...adsErr) {
	code, why := grpcStatus, message
	var details []jsonDetail
	if len(errs) > 0 {
		code, why = errs[0].code.String(), errs[0].message
		details = append(details, failure(version, requestID, errs))
	}
	s.reject(Rejection{Status: status, Row: -1, Code: code, Message: why})
	fakeads.WriteJSON(w, status, rpcBody(status, grpcStatus, message, details...))
}

// refuseJSON answers a body the JSON parser refuses (google.rpc.BadRequest).
func (s *Server) refuseJSON(w http.ResponseWriter, v *violation) {
	s.reject(Rejection{Status: http.StatusBadRequest, Row: -1, Code: "INVALID_ARGUMENT", Message: v.description})
	d := jsonDetail{Type: "type.googleapis.com/google.rpc.BadRequest", FieldViolations: []jsonViolation{{Field: v.field, Description: v.description}}}
	fakeads.WriteJSON(w, http.StatusBadRequest, rpcBody(http.StatusBadRequest, "INVALID_ARGUMENT", v.description, d))
}
