package web

import (
	"context"
	"net/http"

	"github.com/citybot-project/citybot/errs"
)

// Routes is citybot's whole HTTP surface for citizens, each request passing the middleware.
func Routes(s Surface) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", s.Chat.ServeWS)
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", handle(s.Log, s.readyz))
	mux.HandleFunc("GET /widget.js", s.Widget.ServeLoader)
	mux.HandleFunc("GET /widget/{file}", handle(s.Log, s.Widget.ServeBundle))
	mux.HandleFunc("GET /widget/test", handle(s.Log, s.Widget.ServeTest))
	mux.HandleFunc("GET /{$}", s.Widget.ServeDemo)
	mux.HandleFunc("GET /demo/{file}", handle(s.Log, s.Widget.ServeDemoFile))
	return logRequests(s.Log, recoverPanics(s.Log, secureHeaders(mux)))
}

// healthz serves GET /healthz: the process is up.
func healthz(w http.ResponseWriter, r *http.Request) {
	w.Write([]byte("ok\n"))
}

// readyz serves GET /readyz: the process can answer, its database reachable.
func (s Surface) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.DB.Ping(ctx); err != nil {
		return errs.Wrap(errs.Unavailable, err, "database unavailable")
	}
	w.Write([]byte("ready\n"))
	return nil
}
