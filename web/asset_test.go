package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
)

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"gzip": true, "GZIP": true, "gzip, deflate, br": true, "br;q=1.0, gzip;q=0.5": true,
		"": false, "deflate": false, "gzip;q=0": false, "br, gzip; q=0": false, "x-gzip": false,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v", header, got)
		}
	}
}

func TestHashedAssetNameFollowsContent(t *testing.T) {
	a := NewHashedAsset("app", ".js", []byte("let a = 1;"), TypeJS)
	b := NewHashedAsset("app", ".js", []byte("let a = 1;"), TypeJS)
	c := NewHashedAsset("app", ".js", []byte("let a = 2;"), TypeJS)
	if !regexp.MustCompile(`^app\.[0-9a-f]{16}\.js$`).MatchString(a.Name()) {
		t.Errorf("name %q", a.Name())
	}
	if a.Name() != b.Name() || a.Name() == c.Name() {
		t.Errorf("names %s, %s, %s: want equal for equal content only", a.Name(), b.Name(), c.Name())
	}
	if NewAsset([]byte("x"), TypeJS).Name() != "" {
		t.Error("an unhashed asset has a name")
	}
}

func TestAssetServesCachesAndCompresses(t *testing.T) {
	body := bytes.Repeat([]byte("console.log('Musterstadt');\n"), 50)
	for _, tc := range []struct {
		a     *Asset
		cache string
	}{
		{NewHashedAsset("app", ".js", body, TypeJS), "public, max-age=31536000, immutable"},
		{NewAsset(body, TypeJS), "no-cache"},
	} {
		get := func(method string, header ...string) *httptest.ResponseRecorder {
			r := httptest.NewRequest(method, "/x", nil)
			for i := 0; i+1 < len(header); i += 2 {
				r.Header.Set(header[i], header[i+1])
			}
			w := httptest.NewRecorder()
			tc.a.ServeHTTP(w, r)
			return w
		}
		plain := get("GET")
		h := plain.Header()
		if plain.Code != 200 || !bytes.Equal(plain.Body.Bytes(), body) || h.Get("Cache-Control") != tc.cache ||
			h.Get("Content-Type") != TypeJS || h.Get("Vary") != "Accept-Encoding" || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Cross-Origin-Resource-Policy") != "cross-origin" || h.Get("Content-Encoding") != "" {
			t.Fatalf("plain: %d %v", plain.Code, h)
		}
		zipped := get("GET", "Accept-Encoding", "gzip")
		zippedLen := zipped.Body.Len()
		zr, err := gzip.NewReader(zipped.Body)
		if err != nil {
			t.Fatal(err)
		}
		unzipped, _ := io.ReadAll(zr)
		if zipped.Header().Get("Content-Encoding") != "gzip" || !bytes.Equal(unzipped, body) {
			t.Errorf("gzipped: %v", zipped.Header())
		}
		if raw, gz := tc.a.Size(); raw != len(body) || gz != zippedLen {
			t.Errorf("size %d, %d", raw, gz)
		}
		etag := h.Get("ETag")
		for _, inm := range []string{etag, `"` + etag[3:], `W/"other", ` + etag, "*"} {
			if w := get("GET", "If-None-Match", inm); w.Code != http.StatusNotModified || w.Body.Len() != 0 {
				t.Errorf("If-None-Match %s: %d", inm, w.Code)
			}
		}
		if w := get("GET", "If-None-Match", `W/"other"`); w.Code != 200 {
			t.Errorf("stale ETag: %d", w.Code)
		}
		if w := get("HEAD"); w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != h.Get("Content-Length") {
			t.Errorf("HEAD: %d, %d bytes, %v", w.Code, w.Body.Len(), w.Header())
		}
	}
}

func TestContentType(t *testing.T) {
	for name, want := range map[string]string{"index.html": "text/html; charset=utf-8", "city.css": "text/css; charset=utf-8",
		"app.js": TypeJS, "logo.bin": "application/octet-stream"} {
		if got := ContentType(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}
