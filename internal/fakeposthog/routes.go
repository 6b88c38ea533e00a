package fakeposthog

import (
	"net/http"
	"strings"
)

// capturePaths are the capture routes, trailing slash trimmed
// (docs/contracts/posthog-capture.md §1.1); /i/v0/ai/batch takes LLM
// analytics with a /batch/ body.
var capturePaths = map[string]bool{
	"/batch": true, "/e": true, "/i/v0/e": true, "/capture": true, "/track": true, "/i/v0/ai/batch": true,
}

// listPaths are the posthog-js API calls answered with an empty list, under
// the key posthog-js reads.
var listPaths = map[string]string{
	"/api/surveys":               "surveys",
	"/api/early_access_features": "earlyAccessFeatures",
	"/api/web_experiments":       "experiments",
}

// route picks the handler by path, with or without a trailing slash.
func (s *Server) route(r *http.Request, body []byte) answer {
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case capturePaths[path]:
		return s.capture(r, body)
	case path == "/flags" || path == "/decide":
		return s.flagsAnswer(r, body)
	case path == "/s":
		return s.recording(r, body)
	case strings.HasPrefix(path, "/array/"):
		return s.remoteConfig(r, path)
	case strings.HasPrefix(path, "/static/"):
		return staticScript(r, path)
	case listPaths[path] != "":
		return s.emptyList(r, listPaths[path])
	case path == "" || path == "/_readiness" || path == "/_liveness":
		return textAnswer(http.StatusOK, "capture")
	}
	return textAnswer(http.StatusNotFound, "not found")
}

// methodIs refuses other methods with 405, as PostHog's routers do.
func methodIs(r *http.Request, methods ...string) *refusal {
	for _, m := range methods {
		if r.Method == m {
			return nil
		}
	}
	return &refusal{status: http.StatusMethodNotAllowed, text: "method not allowed"}
}
