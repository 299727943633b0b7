package widget

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/citybot-project/citybot/errs"
	"github.com/citybot-project/citybot/web"
)

// The widget's routes are listed in web.Routes; these are its handlers.
var _ web.Widget = (*Assets)(nil)

// errNoFile answers a request for a file the widget does not have.
var errNoFile = errs.New(errs.NotFound, "404 page not found")

// ServeLoader serves GET /widget.js, the file a city's script tag names.
func (a *Assets) ServeLoader(w http.ResponseWriter, r *http.Request) { a.loader.ServeHTTP(w, r) }

// ServeBundle serves GET /widget/{file}: the current bundle only. An old hash is gone with the
// version that made it; its loader is gone too, so nobody asks for it for long.
func (a *Assets) ServeBundle(w http.ResponseWriter, r *http.Request) error {
	if r.PathValue("file") != a.bundle.Name() {
		return errNoFile
	}
	a.bundle.ServeHTTP(w, r)
	return nil
}

// ServeDemo serves the mock Musterstadt page that embeds the widget as a city would.
func (a *Assets) ServeDemo(w http.ResponseWriter, r *http.Request) {
	web.SetPagePolicy(w, r)
	a.demo["index.html"].ServeHTTP(w, r)
}

// ServeTest serves a bare page with nothing but the widget's script tag; its query sets the
// tag's data attributes, e.g. /widget/test?lang=ar&open=true&position=left&color=%23ffdd00.
func (a *Assets) ServeTest(w http.ResponseWriter, r *http.Request) error {
	type attr struct{ Name, Value string }
	var attrs []attr
	for _, name := range []string{"lang", "open", "position", "color", "title", "logo"} {
		if v := r.URL.Query().Get(name); v != "" {
			attrs = append(attrs, attr{name, v})
		}
	}
	var b bytes.Buffer
	if err := a.test.Execute(&b, struct {
		Base  string
		Attrs []attr
	}{a.base, attrs}); err != nil {
		return errs.Wrap(errs.Internal, err, "test page")
	}
	web.SetPagePolicy(w, r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b.Bytes())
	return nil
}

// ServeDemoFile serves GET /demo/{file}: the mock city page's own stylesheet and script.
func (a *Assets) ServeDemoFile(w http.ResponseWriter, r *http.Request) error {
	f, ok := a.demo[r.PathValue("file")]
	if !ok || strings.HasPrefix(f.ContentType(), "text/html") { // pages only with their policy
		return errNoFile
	}
	f.ServeHTTP(w, r)
	return nil
}
