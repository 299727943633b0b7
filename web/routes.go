package web

import (
	"context"
	"net/http"

	"github.com/citybot-project/citybot/errs"
)

// Routes is citybot's whole HTTP surface for citizens, each request passing the middleware.
// Every town has its chat and widget under /t/SLUG/; the same paths without the prefix serve the
// default town. The demo page's own files are shared.
func Routes(s Surface) http.Handler {
	mux := http.NewServeMux()
	for _, base := range []string{"", "/t/{town}"} {
		mux.HandleFunc("GET "+base+"/ws", s.site(func(st Site, w http.ResponseWriter, r *http.Request) error {
			st.Chat.ServeWS(w, r)
			return nil
		}))
		mux.HandleFunc("GET "+base+"/widget.js", s.site(func(st Site, w http.ResponseWriter, r *http.Request) error {
			st.Widget.ServeLoader(w, r)
			return nil
		}))
		mux.HandleFunc("GET "+base+"/widget/{file}", s.site(func(st Site, w http.ResponseWriter, r *http.Request) error {
			return st.Widget.ServeBundle(w, r)
		}))
		mux.HandleFunc("GET "+base+"/widget/test", s.site(func(st Site, w http.ResponseWriter, r *http.Request) error {
			return st.Widget.ServeTest(w, r)
		}))
		mux.HandleFunc("GET "+base+"/{$}", s.site(func(st Site, w http.ResponseWriter, r *http.Request) error {
			st.Widget.ServeDemo(w, r)
			return nil
		}))
	}
	if s.Console != nil {
		mux.Handle("/console/", s.Console)
	}
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", handle(s.Log, s.readyz))
	mux.HandleFunc("GET /demo/{file}", s.site(func(st Site, w http.ResponseWriter, r *http.Request) error {
		return st.Widget.ServeDemoFile(w, r)
	}))
	return logRequests(s.Log, recoverPanics(s.Log, secureHeaders(mux)))
}

// site resolves the request's town (its {town} path value, "" for the default) and hands its
// site to h; an unknown town is a 404.
func (s Surface) site(h func(Site, http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return handle(s.Log, func(w http.ResponseWriter, r *http.Request) error {
		st, err := s.Towns.Site(r.Context(), r.PathValue("town"))
		if err != nil {
			return err
		}
		return h(st, w, r)
	})
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
