package config

import (
	"net/url"
	"strings"
)

// RedactURL hides the password of a Redis or ClickHouse URL (in its user
// info or a password parameter) for error messages and logs.
func RedactURL(raw string) string {
	first, hosts := SplitHosts(raw)
	u, err := url.Parse(first)
	if err != nil {
		return "(unparsable url)"
	}
	if len(hosts) > 1 {
		u.Host = strings.Join(hosts, ",")
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	for _, name := range []string{"password", "sentinel_password"} {
		if q.Has(name) {
			q.Set(name, "xxxxx")
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}
