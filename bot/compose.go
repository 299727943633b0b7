package bot

import (
	"context"
	"strings"

	"github.com/citybot-project/citybot/knowledge"
)

// maxPassageRunes bounds an extractive answer: enough for a fee table and the documents list,
// short enough to read in the widget.
const maxPassageRunes = 900

// compose builds the extractive answer: the city's own words, the sentences, list items and table
// rows of the best page that answer the question, under their headings, framed in the citizen's
// language. chunks are the top hit's page.
// It also returns the quote alone, the passage a generative composer answers from.
func (e *Engine) compose(ctx context.Context, a knowledge.Analysis, lang string, top knowledge.Hit, chunks []knowledge.ChunkHit) (Reply, string, error) {
	page := version(top, lang)
	if page.URL != top.URL {
		var err error
		if chunks, err = e.retriever.PageChunks(ctx, page.URL); err != nil {
			return Reply{}, "", err
		}
	}
	quote := selectPassages(e.units.get(page.URL, chunks, page.Lang), a.Own, a.Added, maxPassageRunes)
	if quote == "" {
		quote = page.Text
	}
	var b strings.Builder
	data := map[string]any{"Title": page.Title, "City": e.city.Name}
	intro := "answer.intro"
	if !sameLanguage(page.Lang, lang) {
		intro = "answer.intro_german"
	}
	b.WriteString(e.catalog.T(lang, intro, data))
	b.WriteString("\n\n")
	b.WriteString(quote)
	b.WriteString("\n\n")
	b.WriteString(e.catalog.T(lang, "answer.more", data))
	sources := []Source{{Title: page.Title, URL: page.URL, Snippet: snippet(page.Text)}}
	for _, v := range append([]knowledge.Hit{top}, top.Translations...) {
		if v.URL != page.URL {
			sources = append(sources, Source{Title: v.Title, URL: v.URL, Snippet: snippet(v.Text)})
		}
	}
	return Reply{Kind: "answer", Text: b.String(), Lang: lang, Sources: sources, Composer: "extractive"}, quote, nil
}

// version picks the language version of a hit to answer from: the citizen's language if the
// site has it, Leichte Sprache for de-simple, else the German page.
func version(top knowledge.Hit, lang string) knowledge.Hit {
	all := append([]knowledge.Hit{top}, top.Translations...)
	var german, variant *knowledge.Hit
	for i := range all {
		v := &all[i]
		switch {
		case plainVariant(*v):
			variant = v
		case strings.HasPrefix(v.Lang, "de"):
			if german == nil {
				german = v
			}
		case lang != "de" && lang != "de-simple" && strings.HasPrefix(v.Lang, lang):
			return *v
		}
	}
	if lang == "de-simple" && variant != nil {
		return *variant
	}
	if german != nil {
		return *german
	}
	return top
}

// plainVariant tells a German page that names another German page as its alternate: the
// Leichte-Sprache version of a service page.
func plainVariant(h knowledge.Hit) bool {
	alt, ok := h.Alternates["de"]
	return strings.HasPrefix(h.Lang, "de") && ok && alt != h.URL
}

func sameLanguage(pageLang, lang string) bool {
	if lang == "de-simple" {
		lang = "de"
	}
	return strings.HasPrefix(pageLang, lang)
}
