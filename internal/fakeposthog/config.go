package fakeposthog

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// remoteConfig serves /array/<token>/config (JSON) and config.js (a script
// that sets window._POSTHOG_REMOTE_CONFIG[token]), what posthog-js loads
// at start-up from the assets host.
func (s *Server) remoteConfig(r *http.Request, path string) answer {
	if rerr := methodIs(r, http.MethodGet); rerr != nil {
		return rerr.answer()
	}
	token, file, ok := strings.Cut(strings.TrimPrefix(path, "/array/"), "/")
	if !ok || (file != "config" && file != "config.js") {
		return textAnswer(http.StatusNotFound, "not found")
	}
	if token != s.opts.Token {
		return textAnswer(http.StatusNotFound, "not found: no project has this token")
	}
	config, err := json.Marshal(s.configBody())
	if err != nil {
		return textAnswer(http.StatusInternalServerError, fmt.Sprintf("encode config: %v", err))
	}
	if file == "config" {
		return jsonAnswer(http.StatusOK, config)
	}
	return answer{status: http.StatusOK, contentType: "application/javascript", body: configScript(token, config)}
}

// configBody is PostHog's remote config with events sent gzip to /i/v0/e/
// (docs/contracts/posthog-capture.md §1.2); hasFeatureFlags tells posthog-js
// whether to call /flags at all.
func (s *Server) configBody() map[string]any {
	s.flags.mu.Lock()
	hasFlags := len(s.flags.order) > 0
	s.flags.mu.Unlock()
	var recording any = false
	if s.opts.SessionRecording {
		recording = map[string]any{"endpoint": "/s/", "consoleLogRecordingEnabled": false, "recorderVersion": "v2",
			"sampleRate": nil, "minimumDurationMilliseconds": nil, "linkedFlag": nil, "networkPayloadCapture": nil,
			"urlTriggers": []any{}, "urlBlocklist": []any{}, "eventTriggers": []any{}, "scriptConfig": nil}
	}
	return map[string]any{
		"token": s.opts.Token, "supportedCompression": []string{"gzip", "gzip-js"},
		"hasFeatureFlags": hasFlags, "analytics": map[string]any{"endpoint": "/i/v0/e/"},
		"sessionRecording": recording, "heatmaps": false, "surveys": false, "siteApps": []any{},
		"captureDeadClicks": false, "capturePerformance": false, "autocapture_opt_out": false,
		"autocaptureExceptions": false, "errorTracking": map[string]any{"autocaptureExceptions": false, "suppressionRules": []any{}},
		"elementsChainAsString": true, "defaultIdentifiedOnly": true,
	}
}

// configScript is config.js: the config under the token, siteApps beside it.
func configScript(token string, config []byte) []byte {
	quoted, _ := json.Marshal(token)
	return fmt.Appendf(nil, "(function() {\n  window._POSTHOG_REMOTE_CONFIG = window._POSTHOG_REMOTE_CONFIG || {};\n"+
		"  window._POSTHOG_REMOTE_CONFIG[%s] = {\n    config: %s,\n    siteApps: []\n  }\n})();\n", quoted, config)
}
