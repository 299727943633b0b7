package knowledge

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/citybot-project/citybot/analysis"
)

// vocabulary is what ranking knows of the whole corpus beyond the postings: how many page titles
// hold each lexeme. A title is a field of its own with its own IDF: "anmelden" stands in many
// titles (Wohnsitz, Gewerbe, Eheschließung anmelden) and says little there, "Reisepass" in two
// and says what the page is about, although the word is common in the pages' text, where every
// list of documents names it.
type vocabulary struct {
	titleDF map[string]int
	pages   int
	// compounds splits the question's words against the lexemes the pages use.
	compounds *compounds
	// skeletons finds the title words a word in another script writes (see skeleton.go).
	skeletons *skeletons
	df        map[string]int
	chunks    int
	// allChunks are the chunks of every town, for choosing how to search the vectors.
	allChunks int
	loaded    time.Time
}

// idf is BM25's IDF of lexeme t over chunks, 0 for a lexeme no chunk holds.
func (v *vocabulary) idf(t string) float64 {
	df, ok := v.df[t]
	if !ok {
		return 0
	}
	return math.Log(1 + (float64(v.chunks)-float64(df)+0.5)/(float64(df)+0.5))
}

// unknownIDF is the IDF of a lexeme that no chunk holds, as if one did.
func (v *vocabulary) unknownIDF() float64 {
	if v == nil {
		return 0
	}
	return math.Log(1 + (float64(v.chunks)-1+0.5)/1.5)
}

// withVariants returns the question's units with the ways the corpus writes its words as
// compounds (see compound.go) added to each word's unit.
func (v *vocabulary) withVariants(a *Analysis, th *Thesaurus) []unit {
	if v == nil || v.compounds == nil {
		return a.units
	}
	others := map[string]bool{}
	for _, t := range a.stems {
		others[t] = true
	}
	units := slices.Clone(a.units)
	for i, t := range a.stems {
		vs := v.compounds.variants(t, others)
		// The thesaurus speaks only for a word the pages never use: where they use it, the
		// town's own word decides (tried on all three corpora: relating every word moved
		// single questions either way).
		if v.df[t] == 0 {
			for _, ls := range th.Related(t) {
				if v.uses(ls) {
					vs = append(vs, variant{ls, thesaurusWeight})
				}
			}
		}
		for _, l := range v.skeletons.match(t) {
			if len(vs) < maxVariations {
				vs = append(vs, variant{[]string{l}, relatedParts})
			}
		}
		if len(vs) == 0 {
			continue
		}
		u := unit{alts: slices.Clone(units[i].alts)}
		for _, x := range vs {
			u.add(x.terms, x.weight)
		}
		units[i] = u
	}
	return units
}

// uses tells whether the pages use every one of the lexemes ls.
func (v *vocabulary) uses(ls []string) bool {
	for _, l := range ls {
		if v.df[l] == 0 {
			return false
		}
	}
	return true
}

// titleIDF is the IDF of lexeme t in the titles (BM25's form, never negative).
func (v *vocabulary) titleIDF(t string) float64 {
	if v == nil {
		return 0
	}
	df := float64(v.titleDF[t])
	return math.Log(1 + (float64(v.pages)-df+0.5)/(df+0.5))
}

// vocabTTL: a serve process notices an ingest by another process within this time.
const vocabTTL = time.Minute

// pagesStamp changes whenever an ingest (in any process) adds, changes or retires a page.
const pagesStamp = `SELECT count(*)::text || '/' || coalesce(max(updated_at)::text, '') FROM pages WHERE town_id = ANY($1)`

// corpusView is something computed from all active pages (the vocabulary, the stated numbers),
// loaded once and kept until an ingest changes the pages: every vocabTTL one cheap query tells
// whether one did, so that searches never queue behind a reload that would change nothing.
type corpusView[T any] struct {
	mu      sync.Mutex
	v       T
	loaded  bool
	stamp   string // the pages' count and last change when v was loaded
	checked time.Time
}

func (h *corpusView[T]) get(ctx context.Context, ix *Index, load func(context.Context) (T, error)) (T, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.loaded && time.Since(h.checked) < vocabTTL {
		return h.v, nil
	}
	var stamp string
	if err := ix.queryRow(ctx, pagesStamp, ix.scope.Search).Scan(&stamp); err != nil {
		var zero T
		return zero, fmt.Errorf("look at the pages: %w", err)
	}
	if h.loaded && stamp == h.stamp {
		h.checked = time.Now()
		return h.v, nil
	}
	v, err := load(ctx)
	if err != nil {
		return v, err
	}
	h.v, h.loaded, h.stamp, h.checked = v, true, stamp, time.Now()
	return v, nil
}

// forget makes the next get load it again (after an ingest in this process).
func (h *corpusView[T]) forget() {
	h.mu.Lock()
	h.loaded = false
	h.mu.Unlock()
}

// vocabulary returns the corpus vocabulary.
func (ix *Index) vocabulary(ctx context.Context) (*vocabulary, error) {
	return ix.vocab.get(ctx, ix, ix.loadVocabulary)
}

// forgetVocabulary makes the next search load the vocabulary and the stated numbers again.
func (ix *Index) forgetVocabulary() {
	ix.vocab.forget()
	ix.numbers.forget()
}

func (ix *Index) loadVocabulary(ctx context.Context) (*vocabulary, error) {
	rows, err := ix.query(ctx, "SELECT title, doc_title, lang FROM pages WHERE town_id = ANY($1) AND active", ix.scope.Search)
	if err != nil {
		return nil, fmt.Errorf("load vocabulary: %w", err)
	}
	defer rows.Close()
	v := &vocabulary{titleDF: map[string]int{}, loaded: time.Now()}
	for rows.Next() {
		var title, docTitle, lang string
		if err := rows.Scan(&title, &docTitle, &lang); err != nil {
			return nil, fmt.Errorf("load vocabulary: %w", err)
		}
		v.pages++
		seen := map[string]bool{}
		for _, t := range titleTerms(title, docTitle, lang) {
			if !seen[t] {
				seen[t] = true
				v.titleDF[t]++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load vocabulary: %w", err)
	}
	rows, err = ix.query(ctx, "SELECT lexeme, sum(df)::int FROM lexeme_stats WHERE town_id = ANY($1) GROUP BY lexeme", ix.scope.Search)
	if err != nil {
		return nil, fmt.Errorf("load vocabulary: %w", err)
	}
	defer rows.Close()
	df := map[string]int{}
	for rows.Next() {
		var l string
		var n int
		if err := rows.Scan(&l, &n); err != nil {
			return nil, fmt.Errorf("load vocabulary: %w", err)
		}
		df[l] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load vocabulary: %w", err)
	}
	v.compounds, v.df, v.skeletons = newCompounds(df), df, newSkeletons(v.titleDF)
	if err := ix.queryRow(ctx, `SELECT coalesce(sum(value::int) FILTER (WHERE town_id = ANY($1)), 0), coalesce(sum(value::int), 0)
		FROM index_meta WHERE key = 'chunks'`, ix.scope.Search).Scan(&v.chunks, &v.allChunks); err != nil {
		return nil, fmt.Errorf("load vocabulary: %w", err)
	}
	return v, nil
}

// Names tells whether a page's title field (title or document title) names place, a town's name
// as a question writes it.
func (ix *Index) Names(ctx context.Context, place string) (bool, error) {
	v, err := ix.vocabulary(ctx)
	if err != nil {
		return false, err
	}
	for _, t := range analysis.Lexemes(place, "de") {
		if v.titleDF[t] == 0 {
			return false, nil
		}
	}
	return len(analysis.Lexemes(place, "de")) > 0, nil
}

// titleSets analyses each page's title field once while chunks are loaded; the chunks of a
// page share the set.
type titleSets map[string]map[string]bool

func (ts titleSets) of(ci chunkInfo) map[string]bool {
	if set, ok := ts[ci.url]; ok {
		return set
	}
	set := map[string]bool{}
	for _, t := range titleTerms(ci.title, ci.docTitle, ci.lang) {
		set[t] = true
	}
	ts[ci.url] = set
	return set
}

// titleTerms are the lexemes of a page's title field: its title and its document title (which
// often adds the town's or office's name), as a question's words are matched against them.
func titleTerms(title, docTitle, lang string) []string {
	return analysis.Lexemes(title+"\n"+docTitle, lang)
}
