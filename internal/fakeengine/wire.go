package fakeengine

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
)

// Refusal bodies in the engine's wording (docs/contracts/hogsend-api.md §1.2,
// §2.4); they are wire contract, hence the capitals.
const (
	msgUnauthorized     = "Unauthorized"
	msgKeyExpired       = "API key expired"
	msgScope            = "Forbidden: insufficient scope"
	msgOrigin           = "Forbidden: origin not allowed"
	msgMalformed        = "Malformed JSON in request body"
	msgNotFound         = "Not Found"
	msgIdentityRequired = "email or userId is required"
	msgContactNotFound  = "Contact not found"
	msgNoEmailForLists  = "Contact has no email; cannot manage list membership"
	msgRateLimited      = "Rate limit exceeded"
)

// answer is what a handler decided: a status and a JSON value, plus extra
// headers; raw, when set, is written as is with its content type.
type answer struct {
	status      int
	body        any
	header      map[string]string
	raw         []byte
	contentType string
}

func ok(status int, body any) answer { return answer{status: status, body: body} }

func refuse(status int, msg string) answer {
	return answer{status: status, body: errorBody{Error: msg}}
}

type errorBody struct {
	Error string `json:"error"`
}

// write sends a; the JSON is encoded without HTML escaping, as JSON.stringify does.
func (a answer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	if a.raw != nil {
		w.Header().Set("Content-Type", a.contentType)
		w.WriteHeader(a.status)
		_, _ = w.Write(a.raw)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(a.body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// isJSON is the engine's content-type rule: a body is read only when it is
// application/json, parameters allowed (docs/contracts/hogsend-api.md §1.1).
func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// decodeBody is the body a route's schema sees: {} for another content
// type; malformed JSON is refused; any JSON value is returned for the schema
// to judge.
func decodeBody(r *http.Request, body []byte) (any, *answer) {
	if !isJSON(r) {
		return map[string]any{}, nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		a := refuse(http.StatusBadRequest, msgMalformed)
		return nil, &a
	}
	return v, nil
}
