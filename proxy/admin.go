package proxy

import (
	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/hogsend/hogsend-proxy/translate/apikeys"
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
	body := ctx.PostBody()
	if !isJSON(ctx) || !gjson.ValidBytes(body) {
		writeError(ctx, fasthttp.StatusBadRequest, native.ErrMalformedJSON.Error())
		return
	}
	root := gjson.ParseBytes(body)
	name := root.Get("name")
	if name.Type != gjson.String || name.Str == "" || len(name.Str) > 100 {
		writeError(ctx, fasthttp.StatusBadRequest, "name must be a string of 1 to 100 characters")
		return
	}
	scopes := []string{"read"}
	if sc := root.Get("scopes"); sc.Exists() {
		if !sc.IsArray() {
			writeError(ctx, fasthttp.StatusBadRequest, "scopes must be an array of strings")
			return
		}
		scopes = scopes[:0]
		for _, v := range sc.Array() {
			if v.Type != gjson.String || !apikeys.IsSecretScope(v.Str) {
				writeError(ctx, fasthttp.StatusBadRequest, "unknown scope "+v.Raw)
				return
			}
			scopes = append(scopes, v.Str)
		}
	}
	// A publishable key gets only ingest-public and needs at least one origin.
	var origins []string
	publishable := root.Get("publishable").Bool()
	if publishable {
		for _, v := range root.Get("allowedOrigins").Array() {
			if v.Type != gjson.String {
				writeError(ctx, fasthttp.StatusBadRequest, "allowedOrigins must be origins like https://app.example.com")
				return
			}
			if err := apikeys.CheckOrigin(v.Str); err != nil {
				writeError(ctx, fasthttp.StatusBadRequest, "allowedOrigins: "+err.Error())
				return
			}
			origins = append(origins, v.Str)
		}
		if len(origins) == 0 {
			writeError(ctx, fasthttp.StatusBadRequest, "a publishable key needs at least one allowed origin")
			return
		}
		scopes = []string{ScopeIngestPublic}
	}
	var expires int64
	if ex := root.Get("expiresAt"); ex.Exists() {
		ms, ok := native.ParseISODatetime(ex.String())
		if !ok {
			writeError(ctx, fasthttp.StatusBadRequest, "expiresAt must be an ISO datetime ending in Z")
			return
		}
		expires = ms
	}
	key, rec, err := s.ingest.CreateAPIKey(requestContext(ctx), name.Str, scopes, expires, origins)
	if err != nil {
		s.writeTranslateError(ctx, err)
		return
	}
	b := append(make([]byte, 0, 256), `{"id":`...)
	b = jsontext.AppendString(b, rec.Hash[:16])
	b = append(b, `,"name":`...)
	b = jsontext.AppendString(b, rec.Name)
	b = append(b, `,"key":`...)
	b = jsontext.AppendString(b, key)
	b = append(b, `,"keyPrefix":`...)
	b = jsontext.AppendString(b, rec.Prefix)
	b = append(b, `,"scopes":[`...)
	for i, sc := range rec.Scopes {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsontext.AppendString(b, sc)
	}
	b = append(b, `]`...)
	if publishable {
		b = append(b, `,"allowedOrigins":[`...)
		for i, o := range rec.AllowedOrigins {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsontext.AppendString(b, o)
		}
		b = append(b, ']')
	}
	b = append(b, `,"createdAt":"`...)
	b = appendISO(b, rec.CreatedAt)
	writeJSON(ctx, fasthttp.StatusCreated, append(b, `"}`...))
}
