package config

import "strings"

// SplitHosts takes apart a URL whose authority names several hosts
// (scheme://[user@]h1:p1,h2:p2/path), which net/url refuses: it returns the
// URL with only the first host, and every host in order. A URL without
// "://" comes back unchanged with no hosts.
func SplitHosts(raw string) (first string, hosts []string) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw, nil
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	auth := rest[:end]
	at := strings.LastIndex(auth, "@")
	userInfo, list := auth[:at+1], auth[at+1:]
	hosts = strings.Split(list, ",")
	return scheme + "://" + userInfo + hosts[0] + rest[end:], hosts
}
