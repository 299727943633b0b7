package web

import (
	"net/http"
	"strings"
)

// SetPagePolicy gives an HTML page citybot serves a Content-Security-Policy as strict as a
// city's could be: scripts, styles and images only from citybot itself, no inline code, its own
// WebSocket, no framing.
func SetPagePolicy(w http.ResponseWriter, r *http.Request) {
	connect := "'self'"
	if plainHost(r.Host) { // 'self' covers ws: and wss: in CSP 3, but not in older browsers
		connect += " ws://" + r.Host + " wss://" + r.Host
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src "+connect+"; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
}

// plainHost tells whether host is safe to repeat in a header: a name or address and a port.
func plainHost(host string) bool {
	for _, c := range host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return false
		}
	}
	return host != ""
}
