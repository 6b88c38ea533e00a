package apikeys

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"
	"time"
	"unicode/utf8"
)

func TestUserToken(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	secret := "s3cret"
	tok := SignUserToken("u1", now.Add(time.Hour), secret)
	if got, err := VerifyUserToken(tok, secret, now); err != nil || got != "u1" {
		t.Fatalf("verify = %q, %v", got, err)
	}
	f := func(token, secret string, want error) {
		t.Helper()
		if _, err := VerifyUserToken(token, secret, now); !errors.Is(err, want) {
			t.Fatalf("VerifyUserToken(%q) = %v, want %v", token, err, want)
		}
	}
	f(tok, "other", ErrInvalidUserToken)
	f(tok, "", ErrInvalidUserToken)
	f(SignUserToken("u1", now.Add(-time.Second), secret), secret, ErrInvalidUserToken)
	f("no-dot", secret, ErrInvalidUserToken)
	f(tok+"x", secret, ErrInvalidUserToken)
	f("."+tok, secret, ErrInvalidUserToken)
	// exp in seconds is accepted too.
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"userId":"u2","exp":1767229200}`))
	if _, err := VerifyUserToken(payload+"."+macFor(payload, secret), secret, now); err != nil {
		t.Fatalf("exp in seconds: %v", err)
	}
}

func TestGatePublishable(t *testing.T) {
	now := time.Now()
	tok := SignUserToken("u1", now.Add(time.Hour), "k")
	f := func(email, userID, token string, want error) {
		t.Helper()
		if err := GatePublishable(email, userID, token, "k", now); !errors.Is(err, want) {
			t.Fatalf("GatePublishable(%q, %q) = %v, want %v", email, userID, err, want)
		}
	}
	f("", "", "", nil)
	f("a@b.co", "", "", ErrNeedUserToken)
	f("", "u1", "", ErrNeedUserToken)
	f("", "u1", "bad", ErrInvalidUserToken)
	f("", "u2", tok, ErrUserTokenIdentity)
	f("a@b.co", "", tok, ErrUserTokenIdentity)
	f("", "u1", tok, nil)
	f("a@b.co", "u1", tok, nil)
}

func macFor(payload, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// FuzzVerifyUserToken: a token SignUserToken makes verifies for its user and
// secret until it expires, and no single-byte change of it ever verifies.
func FuzzVerifyUserToken(f *testing.F) {
	f.Add("u1", "s3cret", int64(3600), 0, byte(1))
	f.Add("user@example.com", "k", int64(1), 60, byte(0x20))
	f.Add("ü \"quoted\" \\ \u2028", "another secret", int64(86400*365), 87, byte(0x80))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, user, secret string, ttl int64, pos int, flip byte) {
		if user == "" || secret == "" || !utf8.ValidString(user) || ttl <= 0 || ttl > 1<<40 {
			return // the signer's contract: a user id, a secret, a future expiry
		}
		tok := SignUserToken(user, now.Add(time.Duration(ttl)*time.Millisecond), secret)
		if got, err := VerifyUserToken(tok, secret, now); err != nil || got != user {
			t.Fatalf("VerifyUserToken(SignUserToken(%q)) = %q, %v", user, got, err)
		}
		if flip == 0 {
			flip = 1
		}
		i := max(pos, -pos-1) % len(tok)
		bad := []byte(tok)
		bad[i] ^= flip
		if got, err := VerifyUserToken(string(bad), secret, now); err == nil {
			t.Fatalf("token with byte %d changed (%q → %q) verified as %q", i, tok[i], bad[i], got)
		}
	})
}
