package fakeengine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// The publishable-identity refusals, 403 (docs/contracts/hogsend-api.md §2.5).
const (
	msgNeedUserToken       = "publishable key cannot act on another identity without a userToken"
	msgUserTokenIdentity   = "userToken does not authorize this identity"
	msgInvalidUserToken    = "Invalid userToken"
	msgAnonymousIdentified = "publishable anonymous write cannot attach to or merge an identified contact"
)

// gateIdentity applies the identity rules: a secret key needs an email or a
// userId; a publishable key may write anonymously, and acts on a person
// only with a userToken for that userId.
func (s *Server) gateIdentity(p principal, keys identityKeys, userToken string) *answer {
	if !p.publishable {
		if keys.email == "" && keys.external == "" {
			a := refuse(http.StatusBadRequest, msgIdentityRequired)
			return &a
		}
		return nil
	}
	if keys.email == "" && keys.external == "" {
		return nil
	}
	var msg string
	switch tokenUser, valid := s.verifyUserToken(userToken); {
	case userToken == "":
		msg = msgNeedUserToken
	case !valid:
		msg = msgInvalidUserToken
	case keys.external == "" || keys.external != tokenUser:
		msg = msgUserTokenIdentity
	default:
		return nil
	}
	a := refuse(http.StatusForbidden, msg)
	return &a
}

// verifyUserToken checks base64url(JSON{userId, exp}).base64url(HMAC-SHA256)
// under Options.UserTokenSecret; exp is Unix milliseconds, or seconds
// below 1e11.
func (s *Server) verifyUserToken(token string) (string, bool) {
	payload, sig, found := strings.Cut(token, ".")
	if s.opts.UserTokenSecret == "" || !found {
		return "", false
	}
	got, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(sig, "="))
	mac := hmac.New(sha256.New, []byte(s.opts.UserTokenSecret))
	mac.Write([]byte(payload))
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payload, "="))
	var claims struct {
		UserID string  `json:"userId"`
		Exp    float64 `json:"exp"`
	}
	if err != nil || json.Unmarshal(raw, &claims) != nil || claims.UserID == "" {
		return "", false
	}
	exp := int64(claims.Exp)
	if exp < 1e11 {
		exp *= 1000
	}
	return claims.UserID, s.now().UnixMilli() < exp
}

// UserToken signs a userToken for userID valid for ttl, as an app's
// backend would, under Options.UserTokenSecret.
func (s *Server) UserToken(userID string, ttl time.Duration) string {
	body, _ := json.Marshal(map[string]any{"userId": userID, "exp": s.now().Add(ttl).UnixMilli()})
	payload := base64.RawURLEncoding.EncodeToString(body)
	mac := hmac.New(sha256.New, []byte(s.opts.UserTokenSecret))
	mac.Write([]byte(payload))
	return payload + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
