// Package widget serves the embeddable chat widget: a small loader at a stable URL that city
// pages name in their script tag, the widget itself (JavaScript with its CSS and every
// language's texts) at a content-hashed URL that browsers may cache for a year, and the demo
// pages that embed it.
package widget

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"

	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/web"
)

//go:embed app.js app.css loader.js demo
var files embed.FS

// Assets are the widget's files, built once at start-up: the catalog may be a city's own, so
// the bundle and its hash are only known then.
type Assets struct {
	base   string // "" for the default town, "/t/SLUG" for a town's own paths
	loader *web.Asset
	bundle *web.Asset            // named app.<hash>.js, under /widget/
	demo   map[string]*web.Asset // the mock city page and its files, by name
	test   *template.Template    // the bare test page, with data attributes from its query
}

// New builds the widget's assets with the texts of cat.
func New(cat *i18n.Catalog, base string, look Look) (*Assets, error) {
	js, err := bundle(cat, look)
	if err != nil {
		return nil, err
	}
	b := web.NewHashedAsset("app", ".js", js, web.TypeJS)
	src, err := files.ReadFile("loader.js")
	if err != nil {
		return nil, fmt.Errorf("widget loader: %w", err)
	}
	loader, err := fill(src, map[string][]byte{"__BUNDLE__": []byte(base + "/widget/" + b.Name())})
	if err != nil {
		return nil, fmt.Errorf("widget loader: %w", err)
	}
	test, err := template.ParseFS(files, "demo/test.html")
	if err != nil {
		return nil, fmt.Errorf("widget test page: %w", err)
	}
	demo, err := demoFiles()
	if err != nil {
		return nil, err
	}
	return &Assets{base: base, loader: web.NewAsset(loader, web.TypeJS), bundle: b, demo: demo, test: test}, nil
}

// bundle is app.js with app.css and the catalog's texts filled in.
// Look is a town's choice of the widget's colour, title and logo; a page's script tag may still
// set its own (data-color, data-title, data-logo).
type Look struct {
	Color string `json:"color,omitempty"`
	Title string `json:"title,omitempty"`
	Logo  string `json:"logo,omitempty"`
}

func bundle(cat *i18n.Catalog, look Look) ([]byte, error) {
	js, err := files.ReadFile("app.js")
	if err != nil {
		return nil, fmt.Errorf("widget bundle: %w", err)
	}
	css, err := files.ReadFile("app.css")
	if err != nil {
		return nil, fmt.Errorf("widget bundle: %w", err)
	}
	cssJSON, err := json.Marshal(string(css))
	if err != nil {
		return nil, fmt.Errorf("widget css: %w", err)
	}
	texts, err := widgetTexts(cat, look)
	if err != nil {
		return nil, err
	}
	js, err = fill(js, map[string][]byte{`/*CSS*/""`: cssJSON, `/*TEXTS*/{}`: texts})
	if err != nil {
		return nil, fmt.Errorf("widget bundle: %w", err)
	}
	return js, nil
}

// demoFiles are the mock city page and its stylesheet and script.
func demoFiles() (map[string]*web.Asset, error) {
	entries, err := files.ReadDir("demo")
	if err != nil {
		return nil, fmt.Errorf("widget demo: %w", err)
	}
	demo := map[string]*web.Asset{}
	for _, e := range entries {
		if e.Name() == "test.html" { // a template, served by serveTest
			continue
		}
		b, err := files.ReadFile("demo/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("widget demo: %w", err)
		}
		demo[e.Name()] = web.NewAsset(b, web.ContentType(e.Name()))
	}
	return demo, nil
}

// widgetTexts are the catalog's widget texts of every language as JSON, with the language menu's
// order: {"languages": [...], "texts": {"de": {"ui.send": "Senden", ...}, ...}}. Raw templates:
// the widget fills in {{.Count}} itself.
func widgetTexts(cat *i18n.Catalog, look Look) ([]byte, error) {
	texts := map[string]map[string]string{}
	for _, lang := range i18n.Languages() {
		m := cat.Messages(lang, "ui.")
		// Shared with the engine's replies, so a city's override applies to both.
		for _, id := range []string{"answer.sources", "handoff.options", "ticket.consent"} {
			m[id] = cat.T(lang, id, nil)
		}
		texts[lang] = m
	}
	b, err := json.Marshal(map[string]any{"languages": i18n.Languages(), "texts": texts, "look": look})
	if err != nil {
		return nil, fmt.Errorf("widget texts: %w", err)
	}
	return b, nil
}

// fill replaces each placeholder, which must occur exactly once, with its value. The
// placeholders are valid JavaScript themselves, so the sources run (and lint) unfilled.
func fill(src []byte, values map[string][]byte) ([]byte, error) {
	for ph, v := range values {
		if n := bytes.Count(src, []byte(ph)); n != 1 {
			return nil, fmt.Errorf("placeholder %s occurs %d times", ph, n)
		}
		src = bytes.Replace(src, []byte(ph), v, 1)
	}
	return src, nil
}

// BundlePath is the URL path of the hashed bundle.
func (a *Assets) BundlePath() string { return a.base + "/widget/" + a.bundle.Name() }

// BundleSize is the bundle's size (JavaScript with its CSS and texts) as sent uncompressed and
// gzipped.
func (a *Assets) BundleSize() (raw, gzipped int) { return a.bundle.Size() }
