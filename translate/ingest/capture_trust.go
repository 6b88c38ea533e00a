package ingest

import (
	"crypto/subtle"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/hogsend/hogsend-proxy/translate/apikeys"
	"github.com/hogsend/hogsend-proxy/translate/identity"
	"github.com/hogsend/hogsend-proxy/translate/posthog"
)

// UserTokenProperty is the event property that carries a Hogsend userToken
// to capture: proof that the sender is that user (docs/identity-trust.md).
const UserTokenProperty = "$hogsend_user_token"

// Capture warnings about trust, beside PostHog's own.
const (
	warnNeedsProof        = "identity_change_needs_proof"
	warnDangerouslyNeeds  = "merge_dangerously_needs_proof"
	warnInvalidUserToken  = "invalid_user_token"
	warnMergeRefused      = "cannot_merge_already_identified"
	warnIllegalDistinctID = "cannot_merge_with_illegal_distinct_id"
)

// CaptureTrust is what capture's credentials prove (docs/identity-trust.md).
type CaptureTrust struct {
	// SecretTokens are the server-side capture tokens
	// (HOGSEND_POSTHOG_SECRET_TOKENS): a request with one applies PostHog's
	// identity rules in full, and its events are server-originated.
	SecretTokens []string
	// Verified (HOGSEND_POSTHOG_IDENTITY=verified) requires proof for every
	// capture write on an identified contact.
	Verified bool
	// UserTokenSecret verifies the events' UserTokenProperty
	// (HOGSEND_USER_TOKEN_SECRET); empty, no user token is valid.
	UserTokenSecret string
}

// requestTrust is what one capture request's credential proves.
type requestTrust struct {
	level      identity.Trust
	secret     bool // the request's token is a secret token
	userSecret string
	now        time.Time
	// The last user token verified and its outcome: a browser's batch
	// carries one token on every event (a super property).
	lastToken, lastUser, lastWarn string
}

// of returns the trust of a request whose token is token.
func (c *CaptureTrust) of(token string, now time.Time) requestTrust {
	rt := requestTrust{level: identity.TrustPublic, userSecret: c.UserTokenSecret, now: now}
	switch {
	case c.isSecret(token):
		rt.level, rt.secret = identity.TrustFull, true
	case c.Verified:
		rt.level = identity.TrustVerified
	}
	return rt
}

// isSecret compares token with every secret token in constant time: the
// token is a credential, and timing must not reveal a prefix of one.
func (c *CaptureTrust) isSecret(token string) bool {
	found := 0
	for _, s := range c.SecretTokens {
		found |= subtle.ConstantTimeCompare([]byte(s), []byte(token))
	}
	return found == 1
}

// provenUser is the userId the event's user token proves, "" when it has
// none; an invalid one proves nothing and is reported as a warning.
func (rt *requestTrust) provenUser(ev *posthog.RawEvent) (string, string) {
	tok := userTokenOf(ev)
	if tok.Type == gjson.Null {
		return "", ""
	}
	if tok.Type != gjson.String {
		return "", warnInvalidUserToken
	}
	if tok.Str != rt.lastToken || rt.lastToken == "" {
		rt.lastToken, rt.lastUser, rt.lastWarn = tok.Str, "", ""
		user, err := apikeys.VerifyUserToken(tok.Str, rt.userSecret, rt.now)
		if err != nil {
			rt.lastWarn = warnInvalidUserToken
		} else {
			rt.lastUser = user
		}
	}
	return rt.lastUser, rt.lastWarn
}

// userTokenOf returns the event's user token property (a Null result when
// absent); a substring test spares the property scan of nearly every event.
func userTokenOf(ev *posthog.RawEvent) gjson.Result {
	if !mayHoldUserToken(ev.Properties.Raw) {
		return gjson.Result{}
	}
	return ev.Prop(UserTokenProperty)
}

// mayHoldUserToken reports whether raw contains UserTokenProperty. It looks
// for the name's 'k', rare in event properties, so the search runs at
// IndexByte's vector speed instead of stopping at every '$'.
func mayHoldUserToken(raw string) bool {
	const k = len("$hogsend_user_to") // the index of 'k' in the name
	for i := 0; ; i++ {
		j := strings.IndexByte(raw[i:], 'k')
		if j < 0 {
			return false
		}
		i += j
		if i >= k && strings.HasPrefix(raw[i-k:], UserTokenProperty) {
			return true
		}
	}
}

// withoutMember copies the object obj without its members named name: a
// user token is a credential and is not stored with the event.
func withoutMember(obj gjson.Result, name string) []byte {
	out := make([]byte, 0, len(obj.Raw))
	out = append(out, '{')
	obj.ForEach(func(k, v gjson.Result) bool {
		if k.Str == name {
			return true
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, k.Raw...)
		out = append(out, ':')
		out = append(out, v.Raw...)
		return true
	})
	return append(out, '}')
}
