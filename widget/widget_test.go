package widget

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/web"
)

// maxGzipBytes is the budget for the widget's JavaScript and CSS together, gzipped.
const maxGzipBytes = 35 * 1024

func newAssets(t *testing.T, override map[string]map[string]string) *Assets {
	t.Helper()
	cat, err := i18n.Load(override)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cat, "", Look{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// mux serves the widget through the real routes, with no chat and no database behind them.
func mux(a *Assets) http.Handler {
	return web.Routes(web.Surface{Towns: oneSite{web.Site{Chat: noChat{}, Widget: a}}, Log: slog.New(slog.DiscardHandler)})
}

// oneSite is a deployment of one town, the default.
type oneSite struct{ site web.Site }

func (o oneSite) Site(context.Context, string) (web.Site, error) { return o.site, nil }

type noChat struct{}

func (noChat) ServeWS(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }

func get(t *testing.T, h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLoaderNamesBundleAndRevalidates(t *testing.T) {
	a := newAssets(t, nil)
	h := mux(a)
	w := get(t, h, "/widget.js")
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/javascript; charset=utf-8" ||
		w.Header().Get("Cache-Control") != "no-cache" || w.Header().Get("ETag") == "" {
		t.Fatalf("loader: %d %v", w.Code, w.Header())
	}
	if !strings.Contains(w.Body.String(), "'"+a.BundlePath()+"'") {
		t.Errorf("loader does not name %s:\n%s", a.BundlePath(), w.Body)
	}
	etag := w.Header().Get("ETag")
	if w := get(t, h, "/widget.js", "If-None-Match", etag); w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Errorf("revalidation with %s: %d, %d bytes", etag, w.Code, w.Body.Len())
	}
	if w := get(t, h, "/widget.js", "If-None-Match", `W/"stale"`); w.Code != 200 {
		t.Errorf("stale ETag: %d", w.Code)
	}
}

func TestBundleCachedForeverAndGzipped(t *testing.T) {
	a := newAssets(t, nil)
	h := mux(a)
	plain := get(t, h, a.BundlePath())
	if plain.Code != 200 || plain.Header().Get("Content-Encoding") != "" ||
		plain.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		!strings.HasPrefix(plain.Header().Get("Content-Type"), "text/javascript") {
		t.Fatalf("bundle: %d %v", plain.Code, plain.Header())
	}
	zipped := get(t, h, a.BundlePath(), "Accept-Encoding", "br, gzip;q=0.8")
	if zipped.Header().Get("Content-Encoding") != "gzip" || zipped.Body.Len() >= plain.Body.Len() {
		t.Fatalf("gzip: %v, %d bytes of %d", zipped.Header(), zipped.Body.Len(), plain.Body.Len())
	}
	if !bytes.Equal(gunzip(t, zipped.Body.Bytes()), plain.Body.Bytes()) {
		t.Error("gzipped bundle differs from the plain one")
	}
	if !strings.Contains(zipped.Header().Get("Vary"), "Accept-Encoding") {
		t.Error("no Vary: Accept-Encoding")
	}
	if w := get(t, h, a.BundlePath(), "If-None-Match", plain.Header().Get("ETag")); w.Code != http.StatusNotModified {
		t.Errorf("revalidation: %d", w.Code)
	}
	for _, path := range []string{"/widget/app.0000000000000000.js", "/widget/app.js", "/widget/loader.js", "/demo/index.html", "/demo/nope.css"} {
		if w := get(t, h, path); w.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, w.Code)
		}
	}
}

func TestBundleHashFollowsCatalog(t *testing.T) {
	a := newAssets(t, nil)
	b := newAssets(t, nil)
	if a.BundlePath() != b.BundlePath() {
		t.Errorf("same content, two names: %s, %s", a.BundlePath(), b.BundlePath())
	}
	city := newAssets(t, map[string]map[string]string{"de": {"ui.send": "Frage abschicken"}})
	if city.BundlePath() == a.BundlePath() {
		t.Fatalf("a city's texts keep the name %s", a.BundlePath())
	}
	if w := get(t, mux(city), "/widget.js"); !strings.Contains(w.Body.String(), city.BundlePath()) {
		t.Errorf("loader names another bundle than %s", city.BundlePath())
	}
	if w := get(t, mux(city), city.BundlePath()); !strings.Contains(w.Body.String(), `"ui.send":"Frage abschicken"`) {
		t.Error("the city's text is not in its bundle")
	}
	if w := get(t, mux(city), a.BundlePath()); w.Code != http.StatusNotFound {
		t.Errorf("the old bundle is still served: %d", w.Code)
	}
}

func TestBundleHasEveryLanguage(t *testing.T) {
	cat, err := i18n.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cat, "", Look{})
	if err != nil {
		t.Fatal(err)
	}
	body := string(a.bundle.Body())
	for _, lang := range i18n.Languages() {
		ui := cat.Messages(lang, "ui.")
		if ui["ui.endonym"] == "" {
			t.Errorf("%s: no endonym", lang)
		}
		for _, id := range []string{"ui.send", "ui.endonym", "ui.from_bot", "ui.chars_left"} {
			if ui[id] == "" {
				t.Errorf("%s: no %s in the catalog", lang, id)
			}
		}
		for id, text := range ui {
			pair, _ := json.Marshal(map[string]string{id: text})
			if !strings.Contains(body, strings.Trim(string(pair), "{}")) {
				t.Errorf("%s: %s missing from the bundle", lang, id)
			}
		}
		if !strings.Contains(body, `"`+lang+`":{`) {
			t.Errorf("%s: no texts object", lang)
		}
	}
	if strings.Contains(body, `/*CSS*/""`) || strings.Contains(body, `/*TEXTS*/{}`) || !strings.Contains(body, `:host {`) {
		t.Error("CSS or texts not filled in")
	}
}

// TestBundleSize fails when the widget outgrows its budget. The size goes into the README.
func TestBundleSize(t *testing.T) {
	a := newAssets(t, nil)
	raw, gz := a.BundleSize()
	t.Logf("widget bundle (JS + CSS + texts of %d languages): %d bytes, %d bytes gzipped (budget %d)", len(i18n.Languages()), raw, gz, maxGzipBytes)
	if gz > maxGzipBytes {
		t.Errorf("widget bundle is %d bytes gzipped, over the budget of %d", gz, maxGzipBytes)
	}
	if _, loader := a.loader.Size(); loader > 1024 {
		t.Errorf("loader is %d bytes gzipped; it is fetched on every page view", loader)
	}
}

func TestDemoPagesUnderStrictPolicy(t *testing.T) {
	h := mux(newAssets(t, nil))
	for _, path := range []string{"/", "/widget/test"} {
		r := httptest.NewRequest("GET", path, nil)
		r.Host = "bot.example:8080"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		csp := w.Header().Get("Content-Security-Policy")
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %v", path, w.Code, w.Header())
		}
		for _, want := range []string{"script-src 'self';", "style-src 'self';", "connect-src 'self' ws://bot.example:8080 wss://bot.example:8080;"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: policy %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: policy allows inline code: %q", path, csp)
		}
		// The town's loader: a path relative to the page (a town's page is at /t/SLUG/).
		if n := len(regexp.MustCompile(`<script src="(/|)widget\.js"`).FindAllString(w.Body.String(), -1)); n != 1 {
			t.Errorf("%s: %d widget script tags, want 1", path, n)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = `evil"; script-src *`
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if csp := w.Header().Get("Content-Security-Policy"); strings.Contains(csp, "evil") {
		t.Errorf("host repeated into the policy: %q", csp)
	}
	for _, path := range []string{"/demo/city.css", "/demo/city.js"} {
		if w := get(t, h, path); w.Code != 200 || w.Header().Get("Cache-Control") != "no-cache" {
			t.Errorf("%s: %d %v", path, w.Code, w.Header())
		}
	}
}

func TestFillNeedsEachPlaceholderOnce(t *testing.T) {
	if _, err := fill([]byte("a X b"), map[string][]byte{"Y": nil}); err == nil {
		t.Error("missing placeholder accepted")
	}
	if _, err := fill([]byte("X X"), map[string][]byte{"X": nil}); err == nil {
		t.Error("doubled placeholder accepted")
	}
	if got, err := fill([]byte(`var a = /*A*/"";`), map[string][]byte{`/*A*/""`: []byte(`"x"`)}); err != nil || string(got) != `var a = "x";` {
		t.Errorf("fill: %q, %v", got, err)
	}
}

func TestTestPageTakesAttributesFromQuery(t *testing.T) {
	h := mux(newAssets(t, nil))
	w := get(t, h, "/widget/test?lang=ar&open=true&color=%23ffdd00&title=%22%3E%3Cscript%3Ex()%3C/script%3E&onload=x()")
	body := w.Body.String()
	for _, want := range []string{`data-lang="ar"`, `data-open="true"`, `data-color="#ffdd00"`, `data-title="&#34;&gt;&lt;script&gt;x()&lt;/script&gt;"`} {
		if !strings.Contains(body, want) {
			t.Errorf("test page lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "onload") || strings.Count(body, "<script") != 1 {
		t.Errorf("test page takes more than the widget's attributes:\n%s", body)
	}
	if w.Header().Get("Content-Security-Policy") == "" {
		t.Error("test page without a policy")
	}
}
