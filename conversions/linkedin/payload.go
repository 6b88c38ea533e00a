package linkedin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/hashing"
)

// LinkedIn's user id types this client sends.
const (
	idTypeEmail = "SHA256_EMAIL"
	idTypeLiFat = "LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID"
)

// event is one conversionEvents element. Field order is the wire order, so
// encoding/json gives deterministic bytes (conversions are low-volume, so
// reflection-based encoding is fine here).
type event struct {
	Conversion           string `json:"conversion"`
	ConversionHappenedAt int64  `json:"conversionHappenedAt"` // epoch ms
	ConversionValue      *money `json:"conversionValue,omitempty"`
	EventID              string `json:"eventId"`
	User                 user   `json:"user"`
}

type money struct {
	CurrencyCode string `json:"currencyCode"`
	Amount       string `json:"amount"` // LinkedIn wants a decimal string
}

type user struct {
	// UserIDs is always present: LinkedIn answers 422 without it.
	UserIDs     []userID  `json:"userIds"`
	UserInfo    *userInfo `json:"userInfo,omitempty"`
	ExternalIDs []string  `json:"externalIds,omitempty"`
}

type userID struct {
	IDType  string `json:"idType"`
	IDValue string `json:"idValue"`
}

// userInfo is plain text; LinkedIn requires both names when it is present.
type userInfo struct {
	FirstName   string `json:"firstName"`
	LastName    string `json:"lastName"`
	CompanyName string `json:"companyName,omitempty"`
	Title       string `json:"title,omitempty"`
	CountryCode string `json:"countryCode,omitempty"`
}

// batchBody is the BATCH_CREATE body.
type batchBody struct {
	Elements []event `json:"elements"`
}

// buildEvent validates c and turns it into LinkedIn's element. The error is
// the reason the conversion is Rejected without being sent.
func buildEvent(c *conversions.Conversion, cfg *Config, now time.Time) (event, error) {
	if err := checkConversion(c, now); err != nil {
		return event{}, err
	}
	ev := event{
		Conversion:           cfg.ConversionURN,
		ConversionHappenedAt: c.OccurredAt.UnixMilli(),
		EventID:              c.DedupID,
		User:                 buildUser(&c.User, &c.Clicks, cfg.Version),
	}
	if len(ev.User.UserIDs) == 0 {
		// userInfo alone is answered 422 by LinkedIn, whatever its docs say.
		return event{}, errors.New("user: no email or li_fat_id, LinkedIn needs at least one user id")
	}
	if c.HasValue {
		ev.ConversionValue = &money{CurrencyCode: normCurrency(c.Currency), Amount: formatAmount(c.Value)}
	}
	return ev, nil
}

func buildUser(u *conversions.User, clicks *conversions.Clicks, version string) user {
	out := user{UserIDs: []userID{}}
	if em := emailDigest(u.Email); em != "" {
		out.UserIDs = append(out.UserIDs, userID{IDType: idTypeEmail, IDValue: em})
	}
	if fat := strings.TrimSpace(clicks.LiFatID); fat != "" && !hashing.IsHashed(fat) {
		// li_fat_id is sent as the cookie carried it; a digest in its place
		// is someone's hashing mistake and can never match.
		out.UserIDs = append(out.UserIDs, userID{IDType: idTypeLiFat, IDValue: fat})
	}
	out.UserInfo = buildUserInfo(u)
	if ext := strings.TrimSpace(u.ExternalID); ext != "" && !strings.EqualFold(ext, hashing.EmptyDigest) && version >= externalIDsSince {
		out.ExternalIDs = []string{ext}
	}
	return out
}

// emailDigest is LinkedIn's SHA256_EMAIL: trimmed and lower-cased, then
// hashed; a ready digest passes through lower-cased. A value without '@'
// is not an email and is left out rather than hashed into noise.
func emailDigest(raw string) string {
	e := hashing.Email(raw)
	if e == "" || (!hashing.IsHashed(e) && !strings.Contains(e, "@")) {
		return ""
	}
	return hashing.Hash(e)
}

// buildUserInfo returns nil unless both names are known: LinkedIn answers 422
// to a userInfo missing either. Names are plain text, so a name that already
// is a digest is useless to LinkedIn and drops userInfo too.
func buildUserInfo(u *conversions.User) *userInfo {
	first, last := strings.TrimSpace(u.FirstName), strings.TrimSpace(u.LastName)
	if first == "" || last == "" || hashing.IsHashed(first) || hashing.IsHashed(last) {
		return nil
	}
	return &userInfo{
		FirstName:   first,
		LastName:    last,
		CompanyName: plainText(u.CompanyName),
		Title:       plainText(u.Title),
		CountryCode: countryCode(u.Country),
	}
}

// plainText trims s and drops it when it is a digest (plain fields must not
// carry hashes).
func plainText(s string) string {
	s = strings.TrimSpace(s)
	if hashing.IsHashed(s) {
		return ""
	}
	return s
}

// countryCode is LinkedIn's upper-case ISO 3166-1 alpha-2; anything else is
// left out.
func countryCode(raw string) string {
	c := strings.ToUpper(strings.TrimSpace(raw))
	if !upperLetters(c, 2) {
		return ""
	}
	return c
}

// formatAmount renders a value as LinkedIn's decimal string: two decimals
// when that is exact ("100.00"), else the shortest exact form ("0.125").
func formatAmount(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if back, err := strconv.ParseFloat(s, 64); err == nil && back == v {
		return s
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// encodeSingle is the body of a single create.
func encodeSingle(ev event) ([]byte, error) { return encode(ev) }

// encodeBatch is the body of a BATCH_CREATE.
func encodeBatch(evs []event) ([]byte, error) { return encode(batchBody{Elements: evs}) }

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Names and URLs are sent as written, not with <>& escaped.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode linkedin body: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
