package fakeposthog

import (
	"fmt"
	"net/http"
)

// emptyList answers a posthog-js API call (surveys, early access features,
// web experiments) with an empty list under the key it reads, after the
// token check.
func (s *Server) emptyList(r *http.Request, key string) answer {
	if rerr := methodIs(r, http.MethodGet); rerr != nil {
		return rerr.answer()
	}
	if r.URL.Query().Get("token") != s.opts.Token {
		return flagsRefusal(unauthorized("Project API key invalid. You can find your project API key in PostHog project settings."))
	}
	return jsonAnswer(http.StatusOK, fmt.Appendf(nil, `{%q:[]}`, key))
}
