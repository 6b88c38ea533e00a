package googleadsfake

import (
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hogsend/hogsend-proxy/internal/fakeads"
)

// tokenAnswer is Google's token endpoint JSON, success or error.
type tokenAnswer struct {
	AccessToken      string `json:"access_token,omitempty"`
	ExpiresIn        int64  `json:"expires_in,omitempty"`
	Scope            string `json:"scope,omitempty"`
	TokenType        string `json:"token_type,omitempty"`
	Error            string `json:"error,omitempty"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// token is the OAuth2 refresh-token grant, strict like
// oauth2.googleapis.com/token: POST, a form body, grant_type=refresh_token,
// the client's credentials (form fields or HTTP Basic) and a live refresh
// token.
func (s *Server) token(w http.ResponseWriter, r *http.Request, body []byte) {
	fail := func(status int, code, desc string) {
		s.reject(Rejection{Status: status, Row: -1, Code: "oauth." + code, Message: desc})
		fakeads.WriteJSON(w, status, tokenAnswer{Error: code, ErrorDescription: desc})
	}
	if r.Method != http.MethodPost {
		fail(http.StatusMethodNotAllowed, "invalid_request", "token endpoint takes POST, got "+r.Method)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		fail(http.StatusBadRequest, "invalid_request", "want Content-Type application/x-www-form-urlencoded, got "+strconv.Quote(r.Header.Get("Content-Type")))
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		fail(http.StatusBadRequest, "invalid_request", "unparseable form body: "+err.Error())
		return
	}
	grant := form.Get("grant_type")
	switch grant {
	case "refresh_token":
	case "":
		fail(http.StatusBadRequest, "invalid_request", "Missing required parameter: grant_type")
		return
	default:
		fail(http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+grant)
		return
	}
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = u, p
	}
	switch {
	case id == "":
		fail(http.StatusBadRequest, "invalid_request", "Could not determine client ID from request.")
		return
	case id != s.opts.clientID:
		fail(http.StatusUnauthorized, "invalid_client", "The OAuth client was not found.")
		return
	case secret != s.opts.clientSecret:
		fail(http.StatusUnauthorized, "invalid_client", "Unauthorized")
		return
	}
	refresh := form.Get("refresh_token")
	s.mu.Lock()
	revoked := s.revoked
	s.mu.Unlock()
	switch {
	case refresh == "":
		fail(http.StatusBadRequest, "invalid_request", "Missing required parameter: refresh_token")
		return
	case refresh != s.opts.refreshToken || revoked:
		fail(http.StatusBadRequest, "invalid_grant", "Token has been expired or revoked.")
		return
	}

	s.mu.Lock()
	s.issued++
	tok := "ya29.fake-" + strconv.Itoa(s.issued)
	s.tokens[tok] = s.opts.now().Add(s.opts.tokenTTL)
	s.mu.Unlock()
	fakeads.WriteJSON(w, http.StatusOK, tokenAnswer{
		AccessToken: tok,
		ExpiresIn:   int64(s.opts.tokenTTL / time.Second),
		Scope:       "https://www.googleapis.com/auth/adwords",
		TokenType:   "Bearer",
	})
}
