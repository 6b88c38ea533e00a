package apikeys

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/translate/jsontext"
)

// Publishable (pk_) keys are browser keys: they may write anonymously, and act
// on a known person only with a userToken the app's backend signed for that
// userId. The messages are upstream's (403).
var (
	ErrNeedUserToken       = errors.New("publishable key cannot act on another identity without a userToken")          //nolint:staticcheck // wire string
	ErrUserTokenIdentity   = errors.New("userToken does not authorize this identity")                                  //nolint:staticcheck
	ErrInvalidUserToken    = errors.New("Invalid userToken")                                                           //nolint:staticcheck
	ErrAnonymousIdentified = errors.New("publishable anonymous write cannot attach to or merge an identified contact") //nolint:staticcheck
)

// IsForbidden reports the publishable-identity errors answered with 403.
func IsForbidden(err error) bool {
	return errors.Is(err, ErrNeedUserToken) || errors.Is(err, ErrUserTokenIdentity) ||
		errors.Is(err, ErrInvalidUserToken) || errors.Is(err, ErrAnonymousIdentified)
}

// GatePublishable applies the identity rules of a pk_ caller: no email and no
// userId is an anonymous write; otherwise a valid userToken must name the
// userId. An email cannot be proven by the token and needs the userId beside it.
func GatePublishable(email, userID, userToken, secret string, now time.Time) error {
	if email == "" && userID == "" {
		return nil
	}
	if userToken == "" {
		return ErrNeedUserToken
	}
	tokenUser, err := VerifyUserToken(userToken, secret, now)
	if err != nil {
		return err
	}
	if userID == "" || userID != tokenUser {
		return ErrUserTokenIdentity
	}
	return nil
}

// VerifyUserToken checks base64url(JSON{userId, exp}) + "." +
// base64url(HMAC-SHA256(secret, first part)) and returns the userId. exp is
// Unix milliseconds (values below 1e11 are taken as seconds).
func VerifyUserToken(token, secret string, now time.Time) (string, error) {
	if secret == "" {
		return "", ErrInvalidUserToken
	}
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || payload == "" || sig == "" {
		return "", ErrInvalidUserToken
	}
	// Strict: the unused low bits of the last character must be zero, so
	// one signature has one spelling and no changed byte still verifies.
	got, err := base64.RawURLEncoding.Strict().DecodeString(strings.TrimRight(sig, "="))
	if err != nil {
		return "", ErrInvalidUserToken
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(payload))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return "", ErrInvalidUserToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payload, "="))
	if err != nil || !gjson.ValidBytes(raw) {
		return "", ErrInvalidUserToken
	}
	user := gjson.GetBytes(raw, "userId")
	exp := gjson.GetBytes(raw, "exp")
	if user.Type != gjson.String || user.Str == "" || exp.Type != gjson.Number {
		return "", ErrInvalidUserToken
	}
	expMs := int64(exp.Num)
	if expMs < 1e11 {
		expMs *= 1000
	}
	if now.UnixMilli() >= expMs {
		return "", ErrInvalidUserToken
	}
	return user.Str, nil
}

// SignUserToken mints a userToken for userID valid until exp; the app's
// backend does this with the same secret.
func SignUserToken(userID string, exp time.Time, secret string) string {
	body := `{"userId":` + string(jsontext.AppendString(nil, userID)) + `,"exp":` + strconv.FormatInt(exp.UnixMilli(), 10) + `}`
	payload := base64.RawURLEncoding.EncodeToString([]byte(body))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(payload))
	return payload + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
