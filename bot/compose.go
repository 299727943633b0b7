package bot

import (
	"strings"

	"github.com/citybot-project/citybot/knowledge"
)

// maxPassageRunes bounds an extractive answer: enough for a fee table and the documents list,
// short enough to read in the widget.
const maxPassageRunes = 900

// compose builds the extractive answer: the city's own words from the best page's matching
// sections, each under its heading, framed in the citizen's language.
func (e *Engine) compose(lang string, top knowledge.Hit) Reply {
	page := version(top, lang)
	var b strings.Builder
	data := map[string]any{"Title": page.Title, "City": e.city.Name}
	intro := "answer.intro"
	if !sameLanguage(page.Lang, lang) {
		intro = "answer.intro_german"
	}
	b.WriteString(e.catalog.T(lang, intro, data))
	b.WriteString("\n\n")
	b.WriteString(passages(page))
	b.WriteString("\n\n")
	b.WriteString(e.catalog.T(lang, "answer.more", data))
	sources := []Source{{Title: page.Title, URL: page.URL, Snippet: snippet(page.Text)}}
	for _, v := range append([]knowledge.Hit{top}, top.Translations...) {
		if v.URL != page.URL {
			sources = append(sources, Source{Title: v.Title, URL: v.URL, Snippet: snippet(v.Text)})
		}
	}
	return Reply{Kind: "answer", Text: b.String(), Lang: lang, Sources: sources, Composer: "extractive"}
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

// passages are the page's best chunk and its other matching chunks that score at least half as
// well, each under its heading, up to maxPassageRunes.
func passages(h knowledge.Hit) string {
	type part struct {
		heads []string
		text  string
	}
	parts := []part{{h.Headings, h.Text}}
	for _, c := range h.Chunks {
		if len(parts) >= 3 || c.Score < 0.5*h.ChunkScore {
			break
		}
		parts = append(parts, part{c.Headings, c.Text})
	}
	var out []string
	used := 0
	for _, p := range parts {
		text := p.text
		if n := len([]rune(text)); used+n > maxPassageRunes {
			if used > 0 {
				break
			}
			text = string([]rune(text)[:maxPassageRunes]) + " …"
		}
		heading := ""
		if len(p.heads) > 1 {
			heading = p.heads[len(p.heads)-1] + ":\n"
		}
		out = append(out, heading+text)
		used += len([]rune(text))
	}
	return strings.Join(out, "\n\n")
}
