package linkedin

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hogsend/hogsend-proxy/conversions"
	"github.com/hogsend/hogsend-proxy/conversions/hashing"
)

// FuzzPayload: whatever a conversion carries, the builder never panics,
// always writes valid JSON, never sends sha256(""), sends only lower-case
// 64-hex email digests, and never sends a user without a user id.
func FuzzPayload(f *testing.F) {
	f.Add("  Buyer@Example.COM ", "Mike", "Smith", "Acme", "CTO", "us", "ext", "a1b2c3d4", "ord_123", "USD", 100.0, int64(-3600_000), true)
	f.Add("", "", "", "", "", "", "", "", "", "", 0.0, int64(0), false)
	f.Add(" ", "\x00", "<script>", "\xff\xfe", "\u2028", "US", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", strings.Repeat("x", 64), "eur", math.NaN(), int64(1), true)
	f.Add("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "a", "b", "", "", "", "", "", "d", "JPY", 1e300, int64(-91*24*3600_000), true)
	cfg := &Config{ConversionURN: "1", AccessToken: "t", Version: "202603"}
	if err := cfg.Validate(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, email, first, last, company, title, country, ext, lifat, dedup, currency string,
		value float64, offsetMs int64, hasValue bool) {
		c := conversions.Conversion{
			DedupID:    dedup,
			OccurredAt: testNow.Add(time.Duration(offsetMs) * time.Millisecond),
			HasValue:   hasValue, Value: value, Currency: currency,
			User: conversions.User{Email: email, FirstName: first, LastName: last, CompanyName: company,
				Title: title, Country: country, ExternalID: ext},
			Clicks: conversions.Clicks{LiFatID: lifat},
		}
		ev, err := buildEvent(&c, cfg, testNow)
		if err != nil {
			return
		}
		single, err := encodeSingle(ev)
		if err != nil {
			t.Fatal(err)
		}
		batch, err := encodeBatch([]event{ev, ev})
		if err != nil {
			t.Fatal(err)
		}
		for _, body := range [][]byte{single, batch} {
			if !json.Valid(body) || strings.Contains(string(body), `"`+hashing.EmptyDigest+`"`) {
				t.Fatalf("bad body: %s", body)
			}
		}
		if len(ev.User.UserIDs) == 0 {
			t.Fatal("built an event without a user id")
		}
		for _, id := range ev.User.UserIDs {
			switch {
			case id.IDValue == "" || id.IDValue == hashing.EmptyDigest:
				t.Fatalf("sent %s %q", id.IDType, id.IDValue)
			case id.IDType == idTypeEmail && (!hashing.IsHashed(id.IDValue) || strings.ToLower(id.IDValue) != id.IDValue):
				t.Fatalf("email digest %q", id.IDValue)
			}
		}
		if info := ev.User.UserInfo; info != nil && (strings.TrimSpace(info.FirstName) == "" || strings.TrimSpace(info.LastName) == "") {
			t.Fatalf("userInfo without both names: %+v", info)
		}
		if v := ev.ConversionValue; v != nil && !strings.ContainsAny(v.Amount, "0123456789") {
			t.Fatalf("amount %q", v.Amount)
		}
		if ev.ConversionHappenedAt < 1e12 || ev.ConversionHappenedAt >= 1e13 {
			t.Fatalf("time %d is not 13-digit epoch ms", ev.ConversionHappenedAt)
		}
	})
}
