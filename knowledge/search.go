package knowledge

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/pgvector/pgvector-go"
)

// Hit is one page found for a question, with the chunk of it that matched best.
type Hit struct {
	URL      string   `json:"url"`
	Title    string   `json:"title"`
	Lang     string   `json:"lang"`
	Headings []string `json:"heading_path"`
	Text     string   `json:"text"`
	ChunkID  int64    `json:"chunk_id"`
	Score    float64  `json:"score"` // fused over the page's matching chunks
	// ChunkScore is the fused score of the best chunk alone, comparable with Chunks' scores.
	ChunkScore float64 `json:"chunk_score"`
	Lexical    float64 `json:"lexical"` // BM25 (or Meilisearch's ranking score); 0 when not found lexically
	Vector     float64 `json:"vector"`  // cosine similarity; 0 when not among the vector candidates
	// Chunks are the page's other matching chunks, best first, for composing an answer.
	Chunks []ChunkHit `json:"chunks,omitempty"`
	// Alternates are the page's versions in other languages, as the page declares them (hreflang).
	Alternates map[string]string `json:"alternates,omitempty"`
	// Translations are the versions of this page (hreflang, either way) that matched too: the same
	// service in another language or in Leichte Sprache, so they share this hit instead of taking
	// places of their own. Best first.
	Translations []Hit `json:"translations,omitempty"`
}

// URLs are the hit's page and its matching translations.
func (h Hit) URLs() []string {
	urls := []string{h.URL}
	for _, t := range h.Translations {
		urls = append(urls, t.URL)
	}
	return urls
}

// ChunkHit is one matching chunk of a page.
type ChunkHit struct {
	ID       int64    `json:"id"`
	Headings []string `json:"heading_path"`
	Text     string   `json:"text"`
	Score    float64  `json:"score"`
}

// Search tuning. rrfK is the usual constant of reciprocal rank fusion; candidates per side is
// enough for a page-level top 10 on a city site.
const (
	rrfK       = 60
	candidates = 60
	// pageDecay weighs a page's further matching chunks: the second counts half, the third a
	// quarter. A page that answers in several sections (fees and documents) beats one that
	// mentions the words once; measured on the dev questions: hit@3 0.82 -> 0.90.
	pageDecay = 0.5
	// expansionWeight is the BM25 weight of a term that only the glossary added: the citizen's
	// own words say more about the question (dev questions: hit@1 0.72 at 1, 0.74 at 0.7).
	expansionWeight = 0.7
	// commonDF drops terms that occur in more than this share of chunks from the lexical query:
	// they carry no topic and would make every chunk a candidate.
	commonDF = 0.3
)

// Query is a citizen's question to retrieval.
type Query struct {
	Text  string
	Lang  string // the question's language if known (the widget's choice); else detected
	Limit int    // pages to return; 0 means 10
	// Analysis, when the caller has it from Analyze already, spares analysing the question twice.
	Analysis *Analysis
}

// Analysis is a question as retrieval reads it.
type Analysis struct {
	Lang     string
	Own      []string // the question's lexemes (German and English stems)
	Added    []string // lexemes only the glossary's expansion brings
	Expanded string   // the question followed by the glossary's German terms, for the embedder
}

// Analyze detects the question's language when lang is empty, expands the question with the
// glossary and turns both into lexemes. The chat engine uses the result for retrieval and again
// to pick the sentences of a page that answer.
func (ix *Index) Analyze(text, lang string) Analysis {
	if lang == "" {
		lang = ix.detector.Detect(text, "")
	}
	a := Analysis{Lang: lang, Own: queryTerms(text), Expanded: text}
	if extra := ix.glossary.Expand(text, lang); len(extra) > 0 {
		a.Expanded = text + "\n" + strings.Join(extra, " ")
		seen := map[string]bool{}
		for _, t := range a.Own {
			seen[t] = true
		}
		for _, t := range queryTerms(strings.Join(extra, " ")) {
			if !seen[t] {
				seen[t] = true
				a.Added = append(a.Added, t)
			}
		}
	}
	return a
}

// Search finds the pages that best answer q, best first: lexical and vector candidates of the
// question expanded with the glossary, fused by rank, one hit per page (language versions of a
// page share one).
func (ix *Index) Search(ctx context.Context, query Query) ([]Hit, error) {
	k := query.Limit
	if k <= 0 {
		k = 10
	}
	a := query.Analysis
	if a == nil {
		an := ix.Analyze(query.Text, query.Lang)
		a = &an
	}
	// The two sides are independent queries: run them side by side.
	var lex []ranked
	var lexErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		lex, lexErr = ix.lexical(ctx, a)
	}()
	vec, err := ix.vector(ctx, a.Expanded)
	<-done
	if err != nil {
		return nil, err
	}
	if lexErr != nil {
		return nil, lexErr
	}
	fused := map[int64]*scored{}
	add := func(list []ranked, weight float64, set func(*scored, float64)) {
		rank := 0
		for i, c := range list {
			// Equal scores share a rank (the same contact box on many pages), so that the order
			// rows happened to be stored in decides nothing.
			if i == 0 || c.score < list[i-1].score-1e-9 {
				rank = i + 1
			}
			s := fused[c.id]
			if s == nil {
				s = &scored{id: c.id}
				fused[c.id] = s
			}
			set(s, c.score)
			s.fused += weight / float64(rrfK+rank)
		}
	}
	add(lex, 1, func(s *scored, v float64) { s.lexical = v })
	add(vec, ix.vectorWeight, func(s *scored, v float64) { s.vector = v })
	return ix.pages(ctx, fused, k)
}

type scored struct {
	id                     int64
	fused, lexical, vector float64
}

type ranked struct {
	id    int64
	score float64
}

// queryTerms are the lexemes of q under both stemmers: a question may be in German or English,
// and so may the page that answers it.
func queryTerms(q string) []string {
	seen := map[string]bool{}
	var out []string
	for _, lang := range []string{"de", "en"} {
		for _, t := range lexemes(q, lang) {
			if !seen[t] && !isNumber(t) {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// lexical ranks chunks for the analysed question; the citizen's own terms weigh more than the
// glossary's.
func (ix *Index) lexical(ctx context.Context, a *Analysis) ([]ranked, error) {
	if ix.meili != nil {
		return ix.meili.search(ctx, a, candidates)
	}
	terms := append(append([]string(nil), a.Own...), a.Added...)
	if len(terms) == 0 {
		return nil, nil
	}
	weights := make([]float64, len(terms))
	for i := range terms {
		weights[i] = 1
		if i >= len(a.Own) {
			weights[i] = expansionWeight
		}
	}
	// BM25 (k1 = 1.2, b = 0.75) over the postings' weighted term frequencies: a heading
	// occurrence counts three times, the page description twice. ts_rank has no IDF, which is why
	// plain PostgreSQL FTS ranks so poorly on questions (see MEASURED.md).
	rows, err := ix.pool.Query(ctx, `
WITH meta AS (
    SELECT (SELECT value::float8 FROM index_meta WHERE key = 'chunks') AS n,
           (SELECT value::float8 FROM index_meta WHERE key = 'avg_len') AS avg_len
), q AS (
    SELECT s.lexeme, w.qw * ln(1 + (meta.n - s.df + 0.5) / (s.df + 0.5)) AS idf
    FROM lexeme_stats s, meta, unnest($1::text[], $4::float8[]) AS w (lexeme, qw)
    WHERE s.lexeme = w.lexeme AND s.df <= $2 * meta.n
)
SELECT p.chunk_id, sum(q.idf * p.tf * 2.2 / (p.tf + 1.2 * (0.25 + 0.75 * p.len / greatest(meta.avg_len, 1)))) AS score
FROM q JOIN postings p ON p.lexeme = q.lexeme, meta
GROUP BY p.chunk_id
ORDER BY score DESC, p.chunk_id
LIMIT $3`, terms, commonDF, candidates, weights)
	if err != nil {
		return nil, fmt.Errorf("lexical search: %w", err)
	}
	defer rows.Close()
	var out []ranked
	for rows.Next() {
		var r ranked
		if err := rows.Scan(&r.id, &r.score); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (ix *Index) vector(ctx context.Context, q string) ([]ranked, error) {
	v, err := ix.embedder.Embed(ctx, []string{q})
	if err != nil {
		return nil, fmt.Errorf("embed question: %w", err)
	}
	d := ix.embedder.Dims()
	// The cast and the dimension predicate must match the partial HNSW index of this dimension.
	sql := fmt.Sprintf(`SELECT id, 1 - (embedding::vector(%d) <=> $1::vector(%d)) FROM chunks
		WHERE vector_dims(embedding) = %d AND embedding_model = $2
		ORDER BY embedding::vector(%d) <=> $1::vector(%d) LIMIT $3`, d, d, d, d, d)
	rows, err := ix.pool.Query(ctx, sql, pgvector.NewVector(v[0]), ix.embedder.Model(), candidates)
	if err != nil {
		return nil, fmt.Errorf("vector search: %w", err)
	}
	defer rows.Close()
	var out []ranked
	for rows.Next() {
		var r ranked
		if err := rows.Scan(&r.id, &r.score); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// pages loads the fused chunks and keeps the best k pages, each with its matching chunks.
func (ix *Index) pages(ctx context.Context, fused map[int64]*scored, k int) ([]Hit, error) {
	if len(fused) == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, len(fused))
	for id := range fused {
		ids = append(ids, id)
	}
	byID, err := ix.chunkInfo(ctx, ids)
	if err != nil {
		return nil, err
	}
	all := make([]*scored, 0, len(byID))
	for id := range byID {
		all = append(all, fused[id])
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.fused != b.fused {
			return a.fused > b.fused
		}
		ra, rb := byID[a.id], byID[b.id]
		if ra.url != rb.url {
			return ra.url < rb.url
		}
		return ra.ord < rb.ord
	})
	var hits []Hit
	at := map[string]int{}
	for _, s := range all {
		r, ok := byID[s.id]
		if !ok {
			continue
		}
		if i, seen := at[r.url]; seen {
			hits[i].Chunks = append(hits[i].Chunks, ChunkHit{ID: s.id, Headings: r.heads, Score: s.fused})
			continue
		}
		at[r.url] = len(hits)
		hits = append(hits, Hit{URL: r.url, Title: r.title, Lang: r.lang, Headings: r.heads,
			ChunkID: s.id, Score: s.fused, ChunkScore: s.fused, Lexical: s.lexical, Vector: s.vector, Alternates: r.alternates})
	}
	for i := range hits {
		w := pageDecay
		for _, c := range hits[i].Chunks {
			hits[i].Score += w * c.Score
			w *= pageDecay
		}
	}
	byScore := func(hits []Hit) {
		sort.SliceStable(hits, func(i, j int) bool { return hits[i].Score > hits[j].Score+1e-12 })
	}
	byScore(hits)
	hits = mergeTranslations(hits)
	byScore(hits)
	if len(hits) > k {
		hits = hits[:k]
	}
	return hits, ix.loadTexts(ctx, hits)
}

// chunkInfo returns what search shows of the chunks ids of active pages, from the cache where
// it can.
func (ix *Index) chunkInfo(ctx context.Context, ids []int64) (map[int64]chunkInfo, error) {
	found, missing := ix.chunkInfos.meta.get(ids)
	if len(missing) == 0 {
		return found, nil
	}
	rows, err := ix.pool.Query(ctx, `SELECT c.id, c.ord, c.heading_path, p.url, p.title, p.lang, p.alternates
		FROM chunks c JOIN pages p ON p.id = c.page_id WHERE c.id = ANY($1) AND p.active`, missing)
	if err != nil {
		return nil, fmt.Errorf("load hits: %w", err)
	}
	defer rows.Close()
	loaded := map[int64]chunkInfo{}
	for rows.Next() {
		var id int64
		var ci chunkInfo
		if err := rows.Scan(&id, &ci.ord, &ci.heads, &ci.url, &ci.title, &ci.lang, &ci.alternates); err != nil {
			return nil, fmt.Errorf("load hits: %w", err)
		}
		loaded[id] = ci
		found[id] = ci
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load hits: %w", err)
	}
	ix.chunkInfos.meta.put(loaded)
	return found, nil
}

// loadTexts fills in the chunk texts of hits, their chunks and their translations: only the
// returned hits' texts are read, and each once.
func (ix *Index) loadTexts(ctx context.Context, hits []Hit) error {
	var ids []int64
	var visit func(hs []Hit)
	visit = func(hs []Hit) {
		for _, h := range hs {
			ids = append(ids, h.ChunkID)
			for _, c := range h.Chunks {
				ids = append(ids, c.ID)
			}
			visit(h.Translations)
		}
	}
	visit(hits)
	body, missing := ix.chunkInfos.bodies.get(ids)
	if len(missing) > 0 {
		rows, err := ix.pool.Query(ctx, "SELECT id, body FROM chunks WHERE id = ANY($1)", missing)
		if err != nil {
			return fmt.Errorf("load hit texts: %w", err)
		}
		defer rows.Close()
		loaded := make(map[int64]string, len(missing))
		for rows.Next() {
			var id int64
			var b string
			if err := rows.Scan(&id, &b); err != nil {
				return fmt.Errorf("load hit texts: %w", err)
			}
			loaded[id], body[id] = b, b
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("load hit texts: %w", err)
		}
		ix.chunkInfos.bodies.put(loaded)
	}
	var fill func(hs []Hit)
	fill = func(hs []Hit) {
		for i := range hs {
			hs[i].Text = body[hs[i].ChunkID]
			for j := range hs[i].Chunks {
				hs[i].Chunks[j].Text = body[hs[i].Chunks[j].ID]
			}
			fill(hs[i].Translations)
		}
	}
	fill(hits)
	return nil
}

// mergeTranslations folds the language versions of one page (linked by hreflang in either
// direction) into the best-scoring one. They add nothing to its score: a page that has
// translations is no better an answer (adding them cost 10 points of hit@1 on the dev questions).
// hits must be sorted best first.
func mergeTranslations(hits []Hit) []Hit {
	at := make(map[string]int, len(hits))
	for i, h := range hits {
		at[h.URL] = i
	}
	parent := make([]int, len(hits))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	for i, h := range hits {
		for _, u := range h.Alternates {
			if j, ok := at[u]; ok {
				a, b := find(i), find(j)
				// The better-ranked (smaller index) page stays the family's representative.
				if a < b {
					parent[b] = a
				} else {
					parent[a] = b
				}
			}
		}
	}
	out := make([]Hit, 0, len(hits))
	rep := map[int]int{} // family root -> index in out
	for i, h := range hits {
		root := find(i)
		j, ok := rep[root]
		if !ok {
			rep[root] = len(out)
			out = append(out, h)
			continue
		}
		out[j].Translations = append(out[j].Translations, h)
	}
	return out
}

// PageChunks returns every chunk of an active page, in page order: what an answer needs beyond
// the matching chunks, such as the office's contact section.
func (ix *Index) PageChunks(ctx context.Context, url string) ([]ChunkHit, error) {
	if cs, ok := ix.pageChunks.get(url); ok {
		return cs, nil
	}
	rows, err := ix.pool.Query(ctx, `SELECT c.id, c.heading_path, c.body FROM chunks c JOIN pages p ON p.id = c.page_id
		WHERE p.url = $1 AND p.active ORDER BY c.ord`, url)
	if err != nil {
		return nil, fmt.Errorf("chunks of %s: %w", url, err)
	}
	defer rows.Close()
	var out []ChunkHit
	for rows.Next() {
		var c ChunkHit
		if err := rows.Scan(&c.ID, &c.Headings, &c.Text); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ix.pageChunks.put(url, out)
	return out, nil
}

// Lexemes analyses text as the index does (folded, stop words dropped, stemmed for lang).
func Lexemes(text, lang string) []string { return lexemes(text, stemLang(lang)) }
