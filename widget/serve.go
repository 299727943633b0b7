package widget

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

const (
	typeJS = "text/javascript; charset=utf-8"
	// The bundle's name changes with its content, so a browser never needs to ask again.
	cacheForever = "public, max-age=31536000, immutable"
	// The loader and the pages are asked for on every view and answered 304 while unchanged, so
	// a new bundle reaches every city page at once.
	cacheRevalidate = "no-cache"
)

// Register mounts the widget's routes: the loader a city's script tag names, the bundle, the
// mock city page on / with its files, and the bare test page.
func (a *Assets) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /widget.js", a.serveLoader)
	mux.HandleFunc("GET /widget/{file}", a.serveBundle)
	mux.HandleFunc("GET /widget/test", a.serveTest)
	mux.HandleFunc("GET /{$}", a.serveDemo)
	mux.HandleFunc("GET /demo/{file}", a.serveDemoFile)
}

// serveLoader serves GET /widget.js, the file a city's script tag names.
func (a *Assets) serveLoader(w http.ResponseWriter, r *http.Request) { a.loader.serve(w, r) }

// serveBundle serves GET /widget/{file}: the current bundle only. An old hash is gone with the
// version that made it; its loader is gone too, so nobody asks for it for long.
func (a *Assets) serveBundle(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("file") != a.name {
		http.NotFound(w, r)
		return
	}
	a.bundle.serve(w, r)
}

// serveDemo serves the mock Musterstadt page that embeds the widget as a city would.
func (a *Assets) serveDemo(w http.ResponseWriter, r *http.Request) {
	setPolicy(w, r)
	a.demo["index.html"].serve(w, r)
}

// serveTest serves a bare page with nothing but the widget's script tag; its query sets the
// tag's data attributes, e.g. /widget/test?lang=ar&open=true&position=left&color=%23ffdd00.
func (a *Assets) serveTest(w http.ResponseWriter, r *http.Request) {
	type attr struct{ Name, Value string }
	var attrs []attr
	for _, name := range []string{"lang", "open", "position", "color", "title", "logo"} {
		if v := r.URL.Query().Get(name); v != "" {
			attrs = append(attrs, attr{name, v})
		}
	}
	var b bytes.Buffer
	if err := a.test.Execute(&b, attrs); err != nil {
		http.Error(w, "test page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	setPolicy(w, r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b.Bytes())
}

// serveDemoFile serves GET /demo/{file}: the mock city page's own stylesheet and script.
func (a *Assets) serveDemoFile(w http.ResponseWriter, r *http.Request) {
	f, ok := a.demo[r.PathValue("file")]
	if !ok || strings.HasPrefix(f.ctype, "text/html") { // pages only with their policy
		http.NotFound(w, r)
		return
	}
	f.serve(w, r)
}

// setPolicy gives a demo page a Content-Security-Policy as strict as a city's could be: the
// widget needs no inline script or style, only its own origin and its WebSocket.
func setPolicy(w http.ResponseWriter, r *http.Request) {
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

// asset is one file as served: compressed once at start-up, not per request.
type asset struct {
	body, gz []byte
	etag     string
	ctype    string
	cache    string
}

func newAsset(body []byte, ctype, cache string) *asset {
	sum := sha256.Sum256(body)
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression) // a valid level cannot fail
	zw.Write(body)                                          // writes to memory cannot fail
	zw.Close()
	// Weak, because the gzipped and the plain body are the same version of the file.
	return &asset{body: body, gz: gz.Bytes(), etag: `W/"` + hex.EncodeToString(sum[:12]) + `"`, ctype: ctype, cache: cache}
}

func (f *asset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", f.cache)
	h.Set("ETag", f.etag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	// City pages with Cross-Origin-Embedder-Policy load only scripts that allow it.
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if etagMatch(r.Header.Get("If-None-Match"), f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// etagMatch compares If-None-Match weakly, as RFC 9110 asks for it.
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// acceptsGzip tells whether an Accept-Encoding header accepts gzip (and not with q=0).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			q, err := strconv.ParseFloat(v, 64)
			return err != nil || q > 0
		}
		return true
	}
	return false
}
