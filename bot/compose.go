package bot

import (
	"context"
	"slices"
	"strings"

	"github.com/citybot-project/citybot/analysis"
	"github.com/citybot-project/citybot/knowledge"
)

// maxPassageRunes bounds an extractive answer: enough for a fee table and the documents list,
// short enough to read in the widget.
const maxPassageRunes = 900

// Answers from a second page: when the next page's evidence is close to the best's, the
// citizen may mean either (Reisepass or Express-Reisepass, Sperrmüll or Elektroschrott), and the
// answer quotes both, the second one shorter.
const (
	closeCall    = 0.85
	maxAlsoRunes = 350
)

// compose builds the extractive answer: the city's own words, the sentences, list items and table
// rows of the best page that answer the question, under their headings, framed in the citizen's
// language. chunks are the best hit's page.
// It also returns the quotes alone with their sources, the passages a generative composer
// answers from.
func (e *Engine) compose(ctx context.Context, question string, a knowledge.Analysis, lang string, hits []knowledge.Hit, chunks []knowledge.ChunkHit) (Reply, []passage, error) {
	top := hits[0]
	folded := analysis.Fold(question) // Arabic and Persian digits become 0-9
	pq := passageQuery{own: append(numbers(folded), a.Own...), added: related(a, top), values: values(folded),
		asks: e.aspects.of(question, lang)}
	page, quote, err := e.quote(ctx, pq, lang, top, chunks, maxPassageRunes)
	if err != nil {
		return Reply{}, nil, err
	}
	var b strings.Builder
	data := map[string]any{"Title": page.Title, "City": e.city.Name}
	intro := "answer.intro"
	if !sameLanguage(page.Lang, lang) {
		intro = "answer.intro_german"
	}
	if owner, ok := e.city.Collections[page.Town]; ok && page.Town != e.city.Town {
		// A linked collection's page (the Kreis's): whose it is, and that they are responsible.
		intro, data["Owner"] = "answer.intro_collection", owner
	}
	b.WriteString(e.catalog.T(lang, intro, data))
	b.WriteString("\n\n")
	b.WriteString(quote)
	sources := []Source{{Title: page.Title, URL: page.URL, Snippet: snippet(page.Text)}}
	passages := []passage{{sources[0], quote}}
	if len(hits) > 1 && hits[1].Score >= closeCall*top.Score {
		also, alsoQuote, err := e.quote(ctx, pq, lang, hits[1], nil, maxAlsoRunes)
		if err != nil {
			return Reply{}, nil, err
		}
		if alsoQuote != "" {
			b.WriteString("\n\n")
			b.WriteString(e.catalog.T(lang, "answer.also", map[string]any{"Title": also.Title}))
			b.WriteString("\n\n")
			b.WriteString(alsoQuote)
			sources = append(sources, Source{Title: also.Title, URL: also.URL, Snippet: snippet(also.Text)})
			passages = append(passages, passage{sources[len(sources)-1], alsoQuote})
		}
	}
	b.WriteString("\n\n")
	b.WriteString(e.catalog.T(lang, "answer.more", data))
	for _, v := range append([]knowledge.Hit{top}, top.Translations...) {
		if v.URL != page.URL {
			sources = append(sources, Source{Title: v.Title, URL: v.URL, Snippet: snippet(v.Text)})
		}
	}
	return Reply{Kind: "answer", Text: b.String(), Lang: lang, Sources: sources, Composer: "extractive"}, passages, nil
}

// related are the terms besides the question's own that point to its sentences on the page:
// the glossary's, and the ways retrieval found the question's words written on it (Grundschule
// for Grundschulkind, Elektrogeräte for Kühlschrank).
func related(a knowledge.Analysis, top knowledge.Hit) []string {
	out := slices.Clone(a.Added)
	for _, t := range top.Matched {
		if !slices.Contains(a.Own, t) && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// passage is a quote and the page it is from.
type passage struct {
	source Source
	text   string
}

// quote picks the language version of hit to answer from and quotes its units that answer the
// question (pq, whose topic it sets to the page's title), up to budget runes. chunks, when given,
// are hit's own page.
func (e *Engine) quote(ctx context.Context, pq passageQuery, lang string, hit knowledge.Hit, chunks []knowledge.ChunkHit, budget int) (knowledge.Hit, string, error) {
	page := version(hit, lang)
	if page.URL != hit.URL || chunks == nil {
		var err error
		if chunks, err = e.retriever.PageChunks(ctx, page.URL); err != nil {
			return page, "", err
		}
	}
	pq.topic = analysis.Lexemes(page.Title, page.Lang)
	quote := selectPassages(e.units.get(page.URL, chunks, page.Lang), pq, budget)
	if quote == "" {
		quote = page.Text
	}
	return page, quote, nil
}

// numbers are the question's numbers ("Biotonne 240 Liter"): retrieval ignores them, but on the
// right page they point at the right row.
func numbers(question string) []string {
	var out []string
	for _, w := range analysis.Words(question) {
		if w[0] >= '0' && w[0] <= '9' {
			out = append(out, w)
		}
	}
	return out
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
