package web

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPagePolicy(t *testing.T) {
	for host, want := range map[string]string{
		"bot.example:8080":         "connect-src 'self' ws://bot.example:8080 wss://bot.example:8080;",
		"[::1]:8080":               "connect-src 'self' ws://[::1]:8080 wss://[::1]:8080;",
		`evil"; script-src *`:      "connect-src 'self';",
		"bot.example\r\nX-Evil: 1": "connect-src 'self';",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = host
		w := httptest.NewRecorder()
		SetPagePolicy(w, r)
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, want) || !strings.Contains(csp, "default-src 'none'; script-src 'self'; style-src 'self';") ||
			strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "evil") {
			t.Errorf("host %q: policy %q", host, csp)
		}
	}
}
