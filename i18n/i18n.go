// Package i18n holds citybot's message catalogs, one JSON file per language, shared by the chat
// engine and the widget, and looks messages up with go-i18n.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed *.json
var files embed.FS

// Languages are the catalog languages in the order a language menu lists them. "de-simple" is
// Leichte Sprache (plain German).
func Languages() []string {
	return []string{"de", "de-simple", "en", "tr", "ar", "uk", "ru", "fa", "pl", "ro"}
}

// RTL tells the languages written right to left.
func RTL(lang string) bool { return lang == "ar" || lang == "fa" }

// tag is the BCP 47 tag of a catalog language: Leichte Sprache has none of its own, so it is a
// private use of German.
func tag(lang string) string {
	if lang == "de-simple" {
		return "de-x-simple"
	}
	return lang
}

// Catalog looks up messages in every catalog language; German is the fallback for anything a
// catalog lacks.
type Catalog struct {
	localizers map[string]*goi18n.Localizer
	messages   map[string]map[string]string // lang -> id -> raw template, for the widget
}

// Load reads the embedded catalogs with a town's own wording over them: override maps a
// language to message ids and their texts (nil: none). A town overrides only what it wants to.
func Load(override map[string]map[string]string) (*Catalog, error) {
	b := goi18n.NewBundle(language.German)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	c := &Catalog{localizers: map[string]*goi18n.Localizer{}, messages: map[string]map[string]string{}}
	for _, lang := range Languages() {
		raw, err := fs.ReadFile(files, lang+".json")
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", lang, err)
		}
		var msgs map[string]string
		if err := json.Unmarshal(raw, &msgs); err != nil {
			return nil, fmt.Errorf("catalog %s: %w", lang, err)
		}
		for k, v := range override[lang] {
			msgs[k] = v
		}
		list := make([]*goi18n.Message, 0, len(msgs))
		for id, text := range msgs {
			list = append(list, &goi18n.Message{ID: id, Other: text})
		}
		t, err := language.Parse(tag(lang))
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", lang, err)
		}
		if err := b.AddMessages(t, list...); err != nil {
			return nil, fmt.Errorf("catalog %s: %w", lang, err)
		}
		c.messages[lang] = msgs
	}
	for _, lang := range Languages() {
		c.localizers[lang] = goi18n.NewLocalizer(b, tag(lang), "de")
	}
	return c, nil
}

// Supported tells whether lang is a catalog language.
func (c *Catalog) Supported(lang string) bool {
	_, ok := c.localizers[lang]
	return ok
}

// T returns message id in lang (German when lang is unknown) with data filled in. A missing
// message returns its id, so a gap shows instead of an empty text.
func (c *Catalog) T(lang, id string, data map[string]any) string {
	l, ok := c.localizers[lang]
	if !ok {
		l = c.localizers["de"]
	}
	s, err := l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return id
	}
	return s
}

// Messages returns lang's raw messages whose id starts with prefix, for the widget.
func (c *Catalog) Messages(lang, prefix string) map[string]string {
	out := map[string]string{}
	for id, text := range c.messages[lang] {
		if strings.HasPrefix(id, prefix) {
			out[id] = text
		}
	}
	return out
}

// IDs returns the IDs of the German catalog's messages, sorted: every language has the same.
func (c *Catalog) IDs() []string {
	ids := make([]string, 0, len(c.messages["de"]))
	for id := range c.messages["de"] {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
