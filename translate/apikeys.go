package translate

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// CheckOrigins checks a publishable key's allowed origins (CheckOrigin).
func CheckOrigins(origins []string) error {
	for _, o := range origins {
		if err := CheckOrigin(o); err != nil {
			return err
		}
	}
	return nil
}

// CheckOrigin accepts an origin as a browser sends it in the Origin header,
// which a publishable key's allow-list is compared with byte for byte:
// http or https, a host, an optional non-default port, lower case, nothing
// else. "*", "null", paths, queries and user info are refused: they either
// open the key to every site or never match.
func CheckOrigin(o string) error {
	bad := func(why string) error {
		return fmt.Errorf("%q is not an origin like https://app.example.com: %s", o, why)
	}
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return bad("unparseable")
	case u.Scheme != "https" && u.Scheme != "http":
		return bad("the scheme must be http or https")
	case u.Hostname() == "" || strings.ContainsAny(u.Host, "*, "):
		return bad("it needs one host, without wildcards")
	case o != u.Scheme+"://"+u.Host:
		return bad("only scheme://host[:port], without path, query, fragment or user info")
	case o != strings.ToLower(o):
		return bad("browsers send origins in lower case")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 || p[0] == '0' {
			return bad("the port must be 1 to 65535")
		}
		if (u.Scheme == "https" && n == 443) || (u.Scheme == "http" && n == 80) {
			return bad("browsers leave the scheme's default port out")
		}
	}
	return nil
}
