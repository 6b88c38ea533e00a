package proxy

import (
	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/translate/apikeys"
	"github.com/hogsend/hogsend-proxy/translate/canonical"
	"github.com/hogsend/hogsend-proxy/translate/jsontext"
	"github.com/hogsend/hogsend-proxy/translate/native"
)

// createAPIKey serves POST /v1/admin/api-keys (full-admin): body
// {name, scopes?, expiresAt?}; answers 201 {id, name, key, keyPrefix, scopes,
// createdAt}. The key is shown once; only its hash is stored.
func (s *Server) createAPIKey(ctx *fasthttp.RequestCtx) {
	p, ok := s.authenticate(ctx)
	if !ok {
		return
	}
	if p.Publishable || !p.IsAdmin() {
		writeError(ctx, errForbidden.status, errForbidden.msg)
		return
	}
	if !isJSON(ctx) || !gjson.ValidBytes(ctx.PostBody()) {
		writeError(ctx, fasthttp.StatusBadRequest, native.ErrMalformedJSON.Error())
		return
	}
	want, msg := parseKeyRequest(gjson.ParseBytes(ctx.PostBody()))
	if msg != "" {
		writeError(ctx, fasthttp.StatusBadRequest, msg)
		return
	}
	key, rec, err := s.ingest.CreateAPIKey(requestContext(ctx), want.name, want.scopes, want.expires, want.origins)
	if err != nil {
		s.writeTranslateError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, appendCreatedKey(nil, key, &rec, want.publishable))
}

// keyRequest is a valid POST /v1/admin/api-keys body.
type keyRequest struct {
	name        string
	scopes      []string
	publishable bool
	origins     []string
	expires     int64 // Unix ms; 0 = never
}

// parseKeyRequest reads a key request, or says what is wrong with it.
func parseKeyRequest(root gjson.Result) (keyRequest, string) {
	name := root.Get("name")
	if name.Type != gjson.String || name.Str == "" || len(name.Str) > 100 {
		return keyRequest{}, "name must be a string of 1 to 100 characters"
	}
	r := keyRequest{name: name.Str, publishable: root.Get("publishable").Bool()}
	var msg string
	if r.scopes, msg = keyScopes(root.Get("scopes")); msg != "" {
		return r, msg
	}
	if r.publishable {
		// A publishable key gets only ingest-public and needs an origin.
		if r.origins, msg = keyOrigins(root.Get("allowedOrigins")); msg != "" {
			return r, msg
		}
		r.scopes = []string{ScopeIngestPublic}
	}
	if ex := root.Get("expiresAt"); ex.Exists() {
		ms, ok := native.ParseISODatetime(ex.String())
		if !ok {
			return r, "expiresAt must be an ISO datetime ending in Z"
		}
		r.expires = ms
	}
	return r, ""
}

// keyScopes reads the scopes of a secret key; read when absent.
func keyScopes(sc gjson.Result) ([]string, string) {
	if !sc.Exists() {
		return []string{"read"}, ""
	}
	if !sc.IsArray() {
		return nil, "scopes must be an array of strings"
	}
	var scopes []string
	for _, v := range sc.Array() {
		if v.Type != gjson.String || !apikeys.IsSecretScope(v.Str) {
			return nil, "unknown scope " + v.Raw
		}
		scopes = append(scopes, v.Str)
	}
	return scopes, ""
}

// keyOrigins reads a publishable key's allowed origins: at least one.
func keyOrigins(list gjson.Result) ([]string, string) {
	var origins []string
	for _, v := range list.Array() {
		if v.Type != gjson.String {
			return nil, "allowedOrigins must be origins like https://app.example.com"
		}
		if err := apikeys.CheckOrigin(v.Str); err != nil {
			return nil, "allowedOrigins: " + err.Error()
		}
		origins = append(origins, v.Str)
	}
	if len(origins) == 0 {
		return nil, "a publishable key needs at least one allowed origin"
	}
	return origins, ""
}

// appendCreatedKey appends the 201 answer: the key, shown this once.
func appendCreatedKey(b []byte, key string, rec *canonical.APIKey, publishable bool) []byte {
	b = append(b, `{"id":`...)
	b = jsontext.AppendString(b, rec.Hash[:16])
	b = append(b, `,"name":`...)
	b = jsontext.AppendString(b, rec.Name)
	b = append(b, `,"key":`...)
	b = jsontext.AppendString(b, key)
	b = append(b, `,"keyPrefix":`...)
	b = jsontext.AppendString(b, rec.Prefix)
	b = append(b, `,"scopes":`...)
	b = appendStrings(b, rec.Scopes)
	if publishable {
		b = append(b, `,"allowedOrigins":`...)
		b = appendStrings(b, rec.AllowedOrigins)
	}
	b = append(b, `,"createdAt":"`...)
	b = appendISO(b, rec.CreatedAt)
	return append(b, `"}`...)
}

// appendStrings appends a JSON array of strings.
func appendStrings(b []byte, list []string) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsontext.AppendString(b, s)
	}
	return append(b, ']')
}
