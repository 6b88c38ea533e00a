package fakeposthog

import (
	"fmt"
	"net/http"
	"path"
)

// staticScripts are the /static/ files posthog-js loads lazily, under any
// version directory (/static/<version>/<name>.js) or none.
var staticScripts = map[string]bool{
	"array.js": true, "array.full.js": true, "recorder.js": true, "posthog-recorder.js": true,
	"lazy-recorder.js": true, "surveys.js": true, "toolbar.js": true, "web-vitals.js": true,
	"dead-clicks-autocapture.js": true, "exception-autocapture.js": true, "tracing-headers.js": true,
}

// staticScript answers a known script with a small fixed body that registers
// nothing; unknown files get 404, as the assets host answers them.
func staticScript(r *http.Request, p string) answer {
	if rerr := methodIs(r, http.MethodGet, http.MethodHead); rerr != nil {
		return rerr.answer()
	}
	name := path.Base(p)
	if !staticScripts[name] {
		return textAnswer(http.StatusNotFound, "not found")
	}
	body := fmt.Appendf(nil, "/* fake posthog %s */\nwindow.__PosthogExtensions__ = window.__PosthogExtensions__ || {};\n", name)
	return answer{status: http.StatusOK, contentType: "application/javascript", body: body,
		header: map[string]string{"Cache-Control": "public, max-age=300"}}
}
