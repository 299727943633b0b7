package main

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/widget"
)

// TestRoutesServeWidget follows a city page's requests through the real routes: the page, the
// loader its script tag names, the bundle the loader names.
func TestRoutesServeWidget(t *testing.T) {
	cat, err := i18n.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	assets, err := widget.New(cat)
	if err != nil {
		t.Fatal(err)
	}
	h := routes(nil, nil, assets) // the chat server and database are not asked for here
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 200 {
			t.Fatalf("%s: %d", path, w.Code)
		}
		return w
	}
	page := get("/")
	if !strings.Contains(page.Header().Get("Content-Security-Policy"), "script-src 'self';") {
		t.Errorf("demo page policy: %q", page.Header().Get("Content-Security-Policy"))
	}
	for _, ref := range regexp.MustCompile(`(?:src|href)="(/[^"]*)"`).FindAllStringSubmatch(page.Body.String(), -1) {
		get(ref[1])
	}
	bundle := regexp.MustCompile(`/widget/app\.[0-9a-f]{16}\.js`).FindString(get("/widget.js").Body.String())
	if bundle != assets.BundlePath() {
		t.Fatalf("loader names %q, want %q", bundle, assets.BundlePath())
	}
	if w := get(bundle); !strings.Contains(w.Header().Get("Cache-Control"), "immutable") {
		t.Errorf("bundle cache: %q", w.Header().Get("Cache-Control"))
	}
	if !strings.Contains(get("/widget/test?lang=ar").Body.String(), `data-lang="ar"`) {
		t.Error("test page without data-lang")
	}
}
