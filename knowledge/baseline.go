package knowledge

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"
)

// The naive baseline that `citybot eval` prints beside citybot's own retrieval: BM25 over whole
// pages' main text, with none of what citybot adds (no sections, no stemming, no folding, no stop
// words, no glossary, no vectors). When citybot ranks below it, something is wrong.

// Okapi BM25's usual parameters.
const (
	baselineK1 = 1.2
	baselineB  = 0.75
)

// PageText is a page as the baseline sees it: its main text is all its chunks' text, in order.
type PageText struct {
	URL        string
	Title      string
	Lang       string
	Alternates map[string]string // hreflang -> URL, as the page declares them
	Text       string
}

// PageTexts returns the pages retrieval searches (active pages with chunks), each with its main
// text: its chunks' bodies in page order, joined by newlines (headings, title and description
// are not part of it). Ordered by URL.
func (ix *Index) PageTexts(ctx context.Context) ([]PageText, error) {
	rows, err := ix.query(ctx, `SELECT p.url, p.title, p.lang, p.alternates, string_agg(c.body, E'\n' ORDER BY c.ord)
		FROM pages p JOIN chunks c ON c.town_id = p.town_id AND c.page_id = p.id WHERE p.town_id = ANY($1) AND p.active
		GROUP BY p.town_id, p.id ORDER BY p.url`, ix.scope.Search)
	if err != nil {
		return nil, fmt.Errorf("page texts: %w", err)
	}
	defer rows.Close()
	var out []PageText
	for rows.Next() {
		var p PageText
		if err := rows.Scan(&p.URL, &p.Title, &p.Lang, &p.Alternates, &p.Text); err != nil {
			return nil, fmt.Errorf("page texts: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("page texts: %w", err)
	}
	return out, nil
}

// BaselineWords is the baseline's whole analysis: lower-case, then the runs of letters and
// digits (with their combining marks, so that a vowelled Arabic word stays one word). Nothing is
// folded: "Müll" and "Muell", "ß" and "ss" are different words.
func BaselineWords(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
	})
}

// Baseline ranks whole pages for a question with Okapi BM25 (k1 1.2, b 0.75).
type Baseline struct {
	pages  []PageText
	tf     []map[string]int
	length []int
	df     map[string]int
	avgLen float64
}

// NewBaseline indexes pages for the baseline.
func NewBaseline(pages []PageText) *Baseline {
	b := &Baseline{pages: pages, tf: make([]map[string]int, len(pages)), length: make([]int, len(pages)),
		df: map[string]int{}}
	total := 0
	for i, p := range pages {
		words := BaselineWords(p.Text)
		tf := make(map[string]int, len(words))
		for _, w := range words {
			tf[w]++
		}
		for w := range tf {
			b.df[w]++
		}
		b.tf[i], b.length[i] = tf, len(words)
		total += len(words)
	}
	if len(pages) > 0 {
		b.avgLen = float64(total) / float64(len(pages))
	}
	return b
}

// Scores are every page's BM25 score for query, in the order the pages were given. Each distinct
// word of the query counts once; idf is ln(1 + (N - df + 0.5) / (df + 0.5)), never negative.
func (b *Baseline) Scores(query string) []float64 {
	scores := make([]float64, len(b.pages))
	if b.avgLen == 0 {
		return scores
	}
	n := float64(len(b.pages))
	seen := map[string]bool{}
	for _, w := range BaselineWords(query) {
		df := b.df[w]
		if seen[w] || df == 0 {
			continue
		}
		seen[w] = true
		idf := math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
		for i, tf := range b.tf {
			f := float64(tf[w])
			if f == 0 {
				continue
			}
			norm := baselineK1 * (1 - baselineB + baselineB*float64(b.length[i])/b.avgLen)
			scores[i] += idf * f * (baselineK1 + 1) / (f + norm)
		}
	}
	return scores
}

// Search returns the best k pages for query (all matching pages when k <= 0), best first, equal
// scores by URL. Language versions of one page share one hit, as in Index.Search: the
// better-ranked version is the hit, the others its Translations. Hits carry URL, title,
// language, alternates and score (as Lexical too), no text.
func (b *Baseline) Search(query string, k int) []Hit {
	scores := b.Scores(query)
	var hits []Hit
	for i, s := range scores {
		if s > 0 {
			p := b.pages[i]
			hits = append(hits, Hit{URL: p.URL, Title: p.Title, Lang: p.Lang, Alternates: p.Alternates, Score: s, Lexical: s})
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].URL < hits[j].URL
	})
	hits = mergeTranslations(hits)
	if k > 0 && len(hits) > k {
		hits = hits[:k]
	}
	return hits
}
