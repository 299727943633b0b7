package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

// Cache policies of assets.
const (
	// A hashed asset's name changes with its content, so a browser never needs to ask again.
	cacheForever = "public, max-age=31536000, immutable"
	// A file at a stable address is asked for on every use and answered 304 while unchanged, so
	// a new version (e.g. a loader naming a new bundle) reaches every page at once.
	cacheRevalidate = "no-cache"
)

// Asset is one static file as served: built and compressed once at start-up, not per request,
// with an ETag for revalidation and a gzipped variant for clients that accept it.
type Asset struct {
	name  string // the hashed name of NewHashedAsset; empty for NewAsset
	body  []byte
	gz    []byte
	etag  string
	ctype string
	cache string
}

// NewAsset is a file served at a stable address: revalidated on every use.
func NewAsset(body []byte, ctype string) *Asset { return newAsset(body, ctype, cacheRevalidate) }

// NewHashedAsset is a file whose name carries a hash of its content, stem.<16 hex digits>ext
// (see Name): a new version has a new address, so browsers may cache it for a year unasked.
func NewHashedAsset(stem, ext string, body []byte, ctype string) *Asset {
	a := newAsset(body, ctype, cacheForever)
	sum := sha256.Sum256(body)
	a.name = stem + "." + hex.EncodeToString(sum[:8]) + ext
	return a
}

func newAsset(body []byte, ctype, cache string) *Asset {
	sum := sha256.Sum256(body)
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression) // a valid level cannot fail
	zw.Write(body)                                          // writes to memory cannot fail
	zw.Close()
	// Weak, because the gzipped and the plain body are the same version of the file.
	return &Asset{body: body, gz: gz.Bytes(), etag: `W/"` + hex.EncodeToString(sum[:12]) + `"`, ctype: ctype, cache: cache}
}

// Name is a hashed asset's file name, e.g. app.3f2a9c0d1e4b5a6f.js; empty for other assets.
func (a *Asset) Name() string { return a.name }

// ContentType is the asset's Content-Type.
func (a *Asset) ContentType() string { return a.ctype }

// Body is the asset's content, uncompressed.
func (a *Asset) Body() []byte { return a.body }

// Size is the asset's size as sent uncompressed and gzipped.
func (a *Asset) Size() (raw, gzipped int) { return len(a.body), len(a.gz) }

// ServeHTTP sends the asset, gzipped when the client accepts it, or 304 when the client's copy
// is current.
func (a *Asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", a.cache)
	h.Set("ETag", a.etag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	// City pages with Cross-Origin-Embedder-Policy load only scripts that allow it.
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if etagMatch(r.Header.Get("If-None-Match"), a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = a.gz
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

// ContentType is the Content-Type of a static file by its name's extension. An explicit list
// rather than mime.TypeByExtension, which depends on the machine's /etc/mime.types.
func ContentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".html"):
		return "text/html; charset=utf-8"
	case strings.HasSuffix(name, ".css"):
		return "text/css; charset=utf-8"
	case strings.HasSuffix(name, ".js"):
		return TypeJS
	}
	return "application/octet-stream"
}

// TypeJS is the Content-Type of JavaScript.
const TypeJS = "text/javascript; charset=utf-8"
