package conversions

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// ErrorText is err's message with every URL it quotes redacted: a *url.Error
// (what net/http returns for a failed request) prints its URL, and GA4 sends
// its api_secret in the query. The text is what lands in last_error, dead
// letters and logs, so clients build reasons from it, never from err.Error().
func ErrorText(err error) string {
	text := err.Error()
	for e := err; e != nil; {
		var ue *url.Error
		if !errors.As(e, &ue) {
			break
		}
		// Wrappers format their text when made, so the URL is replaced in
		// the text rather than in the error.
		if red := RedactURL(ue.URL); ue.URL != "" {
			text = strings.ReplaceAll(text, strconv.Quote(ue.URL), strconv.Quote(red))
			text = strings.ReplaceAll(text, ue.URL, red)
		}
		e = ue.Err
	}
	return text
}

// RedactURL keeps a URL's scheme, host and path and hides the rest: user
// info is dropped and every query value becomes "REDACTED".
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User, u.Fragment, u.RawFragment = nil, "", ""
	if u.RawQuery != "" {
		q, _ := url.ParseQuery(u.RawQuery)
		for k := range q {
			q[k] = []string{"REDACTED"}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}
