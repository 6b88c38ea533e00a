package proxy

import (
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/translate/apikeys"
	"github.com/hogsend/hogsend-proxy/translate/jsontext"
)

// apiKeysPath is the admin collection of API keys.
const apiKeysPath = "/v1/admin/api-keys"

// revokeAPIKey serves DELETE /v1/admin/api-keys/{id} (full-admin): id is
// what POST answered. 200 {id, name, keyPrefix, revokedAt}; revoking again
// answers the first revocation; 404 {"error":"API key not found"}. The key
// stops working here at once and on other instances within the auth cache's
// TTL.
func (s *Server) revokeAPIKey(ctx *fasthttp.RequestCtx, id string) {
	p, ok := s.authenticate(ctx)
	if !ok {
		return
	}
	if p.Publishable || !p.IsAdmin() {
		writeError(ctx, errForbidden.status, errForbidden.msg)
		return
	}
	// Only ids: a secret in a URL would end up in access logs.
	if !isKeyID(id) {
		writeError(ctx, fasthttp.StatusNotFound, apikeys.ErrNotFound.Error())
		return
	}
	k, err := s.ingest.RevokeAPIKey(requestContext(ctx), id)
	if errors.Is(err, apikeys.ErrNotFound) {
		writeError(ctx, fasthttp.StatusNotFound, err.Error())
		return
	}
	if k.Hash != "" {
		s.auth.Forget(k.Hash) // revoked in the store even when the journal failed
	}
	if err != nil {
		s.writeTranslateError(ctx, err)
		return
	}
	b := append(make([]byte, 0, 192), `{"id":`...)
	b = jsontext.AppendString(b, apikeys.ID(&k))
	b = append(b, `,"name":`...)
	b = jsontext.AppendString(b, k.Name)
	b = append(b, `,"keyPrefix":`...)
	b = jsontext.AppendString(b, k.Prefix)
	b = append(b, `,"revokedAt":"`...)
	b = appendISO(b, k.RevokedAt)
	writeJSON(ctx, fasthttp.StatusOK, append(b, `"}`...))
}

// isKeyID reports 16 lower-case hex digits, the form of a key's id.
func isKeyID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
