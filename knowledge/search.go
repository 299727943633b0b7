package knowledge

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/citybot-project/citybot/database"
	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/citybot-project/citybot/analysis"
)

// Hit is one page found for a question, with the chunk of it that matched best.
type Hit struct {
	URL string `json:"url"`
	// Town is the town whose page it is: the index's own, or a linked collection's (a Kreis's).
	Town     int      `json:"town"`
	Title    string   `json:"title"`
	Lang     string   `json:"lang"`
	Headings []string `json:"heading_path"`
	Text     string   `json:"text"`
	ChunkID  int64    `json:"chunk_id"`
	Score    float64  `json:"score"` // fused over the page's matching chunks
	// ChunkScore is the fused score of the best chunk alone, comparable with Chunks' scores.
	ChunkScore float64 `json:"chunk_score"`
	// Lexical is the page's lexical evidence: per thing the question asks, its best BM25 score
	// on the page, summed (Meilisearch: the best chunk's ranking score); 0 when not found.
	Lexical float64 `json:"lexical"`
	Vector  float64 `json:"vector"` // best cosine similarity of its chunks; 0 when none was a candidate
	// Coverage is the share of the question (its units weighted by IDF) the page holds.
	Coverage float64 `json:"coverage"`
	// Lift is how much closer by meaning the page's best chunk is than the vector side's
	// background (its weakest candidate), as a share of the distance that was left: 0 when the
	// page is no closer than any chunk, whatever the embedder's usual range of cosines.
	Lift float64 `json:"lift"`
	// Chunks are the page's other matching chunks, best first, for composing an answer.
	Chunks []ChunkHit `json:"chunks,omitempty"`
	// Matched are the lexemes by which the question was found on the page: its own words and
	// the ways the page writes them (compounds, typos, thesaurus, other scripts, glossary), so
	// that the sentences that answer are found by the same evidence as the page.
	Matched []string `json:"matched,omitempty"`
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

// Search tuning. These are principles more than weights: each is a property that holds on any
// site; the few numbers are neutral choices or were checked on three corpora of different
// structure, none swept on one site's questions.
const (
	// candidates: the vector side's chunks, and Meilisearch's.
	candidates = 60
	// candidatePages: the lexical side's pages, each with all its matching chunks.
	candidatePages = 30
	// expansionWeight is the weight of a term that only the glossary added: the citizen's own
	// words say more about the question than a synonym does.
	expansionWeight = 0.7
	// titleWeight scales the title field: a question word in the page's title adds its IDF
	// among titles, on top of its evidence in the text. The title says what the page is about;
	// a section heading or a sentence only mentions it.
	titleWeight = 1.0
	// elsewhereWeight: evidence for a part of the question that the page's best section lacks
	// counts this much when another section holds it.
	elsewhereWeight = 0.5
	// commonDF drops terms that occur in more than this share of chunks from the lexical query:
	// they carry no topic and would make every chunk a candidate.
	commonDF = 0.3
	// thesaurusWeight is the weight of a synonym or hypernym from the thesaurus: a suggestion
	// of the language at large, not of public services, weaker than the glossary's.
	thesaurusWeight = 0.5
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
	// units are what the question asks for, each counted once on a page: one of the citizen's
	// words, or a concept of the glossary, with the lexemes that stand for it.
	units []unit
	// stems are the German stems of the question's own words, unit by unit, for compounds.
	stems []string
}

// unit is one thing the question asks for and the ways a page may say it: the citizen's own
// word (weight 1), or a glossary term (expansionWeight), which may be a phrase whose words must
// all be there.
type unit struct {
	alts []alt
	own  bool // one of the citizen's words, not a concept the glossary added
	// long: a word of six letters or more. Only such a word counts when no page uses it:
	// short ones (hoch, bald, weit) are the question's frame, not its topic.
	long bool
}

type alt struct {
	terms  []string
	weight float64
}

func (u *unit) add(terms []string, w float64) {
	for i, a := range u.alts {
		if slices.Equal(a.terms, terms) {
			u.alts[i].weight = max(a.weight, w)
			return
		}
	}
	u.alts = append(u.alts, alt{terms: terms, weight: w})
}

// Analyze detects the question's language when lang is empty, expands the question with the
// glossary and turns both into lexemes. The chat engine uses the result for retrieval and again
// to pick the sentences of a page that answer.
func (ix *Index) Analyze(text, lang string) Analysis {
	if lang == "" {
		lang = ix.detector.Detect(text, "")
	}
	a := Analysis{Lang: lang, Own: queryTerms(text), Expanded: text}
	of := map[string]int{} // the citizen's lexeme -> its unit
	// One unit per word of the question, its German and English stems the ways to say it.
	folded := analysis.Fold(text)
	wordUnit := map[int]int{} // a question word's position -> its unit
	for wi, w := range append(analysis.Words(folded), analysis.CompoundForms(folded)...) {
		// A single letter ("o", "a") is a word in some languages and an abbreviation's
		// remnant on pages: no evidence either way.
		if analysis.Stopword(w) || analysis.IsNumber(w) || utf8.RuneCountInString(w) < 2 {
			continue
		}
		var u unit
		a.stems = append(a.stems, analysis.Stem(w, "de"))
		for _, lang := range []string{"de", "en"} {
			t := analysis.Stem(w, lang)
			if _, dup := of[t]; dup {
				continue
			}
			of[t] = len(a.units)
			u.add([]string{t}, 1)
		}
		if len(u.alts) > 0 {
			u.own, u.long = true, utf8.RuneCountInString(w) >= 6
			wordUnit[wi] = len(a.units)
			a.units = append(a.units, u)
		} else {
			a.stems = a.stems[:len(a.stems)-1]
		}
	}
	var extra []string
	seen := map[string]bool{}
	for _, t := range a.Own {
		seen[t] = true
	}
	for _, m := range ix.glossary.Concepts(text, lang) {
		extra = append(extra, m.Terms...)
		var ways [][]string
		for _, term := range m.Terms {
			// The glossary's terms are German: one stemmer, or a phrase would need both stems.
			if ls := dedupe(analysis.Lexemes(term, "de")); len(ls) > 0 {
				ways = append(ways, ls)
			}
		}
		// A concept joins the unit of the question's word that named it ("kostet" and the
		// concept of fees are one thing asked, "Perso" and Personalausweis too), or of its
		// German word the citizen used; only a concept named by function words alone is a
		// unit of its own.
		at := -1
		for _, wi := range m.Words {
			if i, ok := wordUnit[wi]; ok {
				at = i
				break
			}
		}
		for _, ls := range ways {
			if i, ok := of[ls[0]]; ok && len(ls) == 1 && at < 0 {
				at = i
				break
			}
		}
		if at < 0 {
			at = len(a.units)
			a.units = append(a.units, unit{})
		}
		for _, ls := range ways {
			a.units[at].add(ls, expansionWeight)
			for _, t := range ls {
				if !seen[t] {
					seen[t] = true
					a.Added = append(a.Added, t)
				}
			}
		}
	}
	if len(extra) > 0 {
		a.Expanded = text + "\n" + strings.Join(extra, " ")
	}
	return a
}

// Search finds the pages that best answer q, best first, by the evidence each page holds for the
// question: lexical evidence per page (each thing asked counted once, by its best occurrence,
// the title as a strong field) and the closest chunk by meaning, each scaled to the best
// candidate's so that their sizes survive fusion. Language versions of a page share one hit.
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
	v, err := ix.vocabulary(ctx)
	if err != nil {
		return nil, err
	}
	units := v.withVariants(a, ix.thesaurus)
	// The two sides are independent queries: run them side by side.
	var ev *evidence
	var lexErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		ev, lexErr = ix.lexical(ctx, a, units)
	}()
	vec, err := ix.vector(ctx, a.Expanded, exactVectors(v.chunks, v.allChunks))
	<-done
	if err != nil {
		return nil, err
	}
	if lexErr != nil {
		return nil, lexErr
	}
	want := k
	if ix.reranker != nil {
		want = max(k, rerankPages)
	}
	hits, err := ix.pages(ctx, a.Lang, units, v, ev, vec, want)
	if err != nil {
		return nil, err
	}
	hits = ix.rerank(ctx, query.Text, hits)
	if len(hits) > k {
		hits = hits[:k]
	}
	return hits, nil
}

// rerankPages is how many of the best pages a cross-encoder reorders: the right page is nearly
// always among them (hit@10 on every corpus measured), and each costs the model a pass.
const rerankPages = 10

// rerank reorders the best pages by a cross-encoder's judgement of the question against each
// page's best section, when one is configured. A failing reranker costs nothing but its timeout:
// the evidence's order stands. Coverage and lift stay the evidence's, so confidence means the
// same with or without it.
func (ix *Index) rerank(ctx context.Context, question string, hits []Hit) []Hit {
	if ix.reranker == nil || len(hits) < 2 {
		return hits
	}
	n := min(len(hits), rerankPages)
	texts := make([]string, n)
	for i, h := range hits[:n] {
		texts[i] = h.Title + "\n" + strings.Join(h.Headings, " › ") + "\n" + h.Text
	}
	if !ix.deps.rerank.Allow() {
		ix.deps.fallback("reranker")
		return hits
	}
	scores, err := ix.reranker.Rerank(ctx, question, texts)
	ix.deps.rerank.Done(failure(ctx, err))
	if err != nil {
		ix.log.Warn("reranker failed, keeping the evidence's order", "err", err)
		ix.deps.fallback("reranker")
		return hits
	}
	top := slices.Clone(hits[:n])
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] > scores[order[b]] })
	for i, j := range order {
		hits[i] = top[j]
	}
	return hits
}

type ranked struct {
	id    int64
	score float64
}

// evidence is what the lexical side found: per chunk and lexeme the BM25 contribution (without
// the query weight), and the IDF of every question lexeme the corpus has.
type evidence struct {
	rows []termRow
	idf  map[string]float64
	// ranked, for a lexical side that scores whole chunks (Meilisearch): chunk scores instead
	// of rows.
	ranked []ranked
}

type termRow struct {
	chunk  int64
	lexeme string
	s      float64
}

// queryTerms are the lexemes of q under both stemmers: a question may be in German or English,
// and so may the page that answers it.
func queryTerms(q string) []string {
	seen := map[string]bool{}
	var out []string
	for _, lang := range []string{"de", "en"} {
		for _, t := range analysis.Lexemes(q, lang) {
			if !seen[t] && !analysis.IsNumber(t) {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// lexical finds the pages with the most evidence for the question and returns every matching
// (chunk, lexeme) of them.
func (ix *Index) lexical(ctx context.Context, a *Analysis, units []unit) (*evidence, error) {
	if ix.meili != nil {
		if ix.deps.meili.Allow() {
			r, err := ix.meili.search(ctx, a, candidates, ix.scope.Search)
			ix.deps.meili.Done(failure(ctx, err))
			if err == nil {
				return &evidence{ranked: r}, nil
			}
			ix.log.Warn("meilisearch failed, searching PostgreSQL's postings instead", "err", err)
		}
		// Down, or its breaker open: the postings in PostgreSQL hold the same evidence.
		ix.deps.fallback("meilisearch")
	}
	weight := map[string]float64{}
	for _, u := range units {
		for _, al := range u.alts {
			for _, t := range al.terms {
				weight[t] = max(weight[t], al.weight)
			}
		}
	}
	if len(weight) == 0 {
		return &evidence{}, nil
	}
	terms := make([]string, 0, len(weight))
	weights := make([]float64, 0, len(weight))
	for t, w := range weight {
		terms, weights = append(terms, t), append(weights, w)
	}
	// BM25 (k1 = 1.2, b = 0.75) over the postings' weighted term frequencies: a heading
	// occurrence counts three times, the page description twice. ts_rank has no IDF, which is why
	// plain PostgreSQL FTS ranks so poorly on questions (see MEASURED.md). Pages are chosen by
	// the sum over the question's lexemes of each one's best chunk on the page, so that a page
	// with many sections that each mention a common word does not win by their number. A
	// lexeme's IDF is taken among the chunks of its page's language group (German or English
	// pages): an English word on a town's few English pages is not rare because the German
	// pages lack it. Rows with chunk 0 carry each lexeme's IDF in the group that uses it most.
	// Lengths are cast to float8: numeric arithmetic on every posting cost a third of the query
	// at 100,000 chunks.
	// A town that is linked to collections (a Kreis's pages) searches them as one corpus, its
	// statistics summed over the scope; a town alone reads its own, which is half the work.
	var rows pgx.Rows
	var err error
	if len(ix.scope.Search) == 1 {
		rows, err = ix.query(ctx, lexicalOneTown, terms, commonDF, candidatePages, weights, ix.scope.Town)
	} else {
		rows, err = ix.query(ctx, lexicalScope, terms, commonDF, candidatePages, weights, ix.scope.Search)
	}
	if err != nil {
		return nil, fmt.Errorf("lexical search: %w", err)
	}
	defer rows.Close()
	ev := &evidence{idf: map[string]float64{}}
	for rows.Next() {
		var r termRow
		if err := rows.Scan(&r.chunk, &r.lexeme, &r.s); err != nil {
			return nil, fmt.Errorf("lexical search: %w", err)
		}
		if r.chunk == 0 {
			ev.idf[r.lexeme] = r.s
			continue
		}
		ev.rows = append(ev.rows, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lexical search: %w", err)
	}
	return ev, nil
}

// lexicalOneTown is the lexical query of a town alone ($5 its id), lexicalScope that of a town
// and its collections ($5 their ids), whose document frequencies and chunk counts are summed.
// Both: $1 the question's lexemes, $4 their weights, $2 the share of chunks above which a
// lexeme is too common to count, $3 how many pages to read back.
const (
	lexicalOneTown = `
WITH meta AS (
    SELECT (SELECT value::float8 FROM index_meta WHERE town_id = $5 AND key = 'avg_len') AS avg_len
), groups AS (
    SELECT substr(key, 8) AS lang, value::float8 AS n FROM index_meta WHERE town_id = $5 AND key LIKE 'chunks:%'
), q AS (
    SELECT s.lexeme, s.lang, s.df, w.qw, ln(1 + (g.n - s.df + 0.5) / (s.df + 0.5)) AS idf
    FROM lexeme_stats s JOIN groups g USING (lang), unnest($1::text[], $4::float8[]) AS w (lexeme, qw)
    WHERE s.town_id = $5 AND s.lexeme = w.lexeme AND s.df <= $2 * g.n
), best AS (
    SELECT page_id FROM (
        SELECT p.page_id, p.lexeme, max(q.qw * q.idf * p.tf / (p.tf + 1.2 * (0.25 + 0.75 * p.len::float8 / greatest(meta.avg_len, 1)))) AS s
        FROM q JOIN postings p ON p.town_id = $5 AND p.lexeme = q.lexeme AND p.lang = q.lang, meta
        GROUP BY p.page_id, p.lexeme) t
    GROUP BY page_id ORDER BY sum(s) DESC, page_id LIMIT $3
)
SELECT 0::bigint, lexeme, idf FROM (SELECT DISTINCT ON (lexeme) lexeme, idf FROM q ORDER BY lexeme, df DESC, lang) u
UNION ALL
SELECT p.chunk_id, q.lexeme, q.idf * p.tf * 2.2 / (p.tf + 1.2 * (0.25 + 0.75 * p.len::float8 / greatest(meta.avg_len, 1)))
FROM q JOIN postings p ON p.town_id = $5 AND p.lexeme = q.lexeme AND p.lang = q.lang, meta
-- An array, so that each lexeme's postings of the best pages are one index range scan
-- (town, lexeme, page_id = ANY), not a second pass over all of them.
WHERE p.page_id = ANY (ARRAY(SELECT page_id FROM best))`
	lexicalScope = `
WITH meta AS (
    SELECT coalesce(sum(a.value::float8 * c.value::float8) / nullif(sum(c.value::float8), 0), 0) AS avg_len
    FROM index_meta a JOIN index_meta c ON c.town_id = a.town_id AND c.key = 'chunks'
    WHERE a.town_id = ANY($5) AND a.key = 'avg_len'
), groups AS (
    SELECT substr(key, 8) AS lang, sum(value::float8) AS n FROM index_meta
    WHERE town_id = ANY($5) AND key LIKE 'chunks:%' GROUP BY 1
), stats AS (
    SELECT lexeme, lang, sum(df) AS df FROM lexeme_stats
    WHERE town_id = ANY($5) AND lexeme = ANY($1) GROUP BY lexeme, lang
), q AS (
    SELECT s.lexeme, s.lang, s.df, w.qw, ln(1 + (g.n - s.df + 0.5) / (s.df + 0.5)) AS idf
    FROM stats s JOIN groups g USING (lang), unnest($1::text[], $4::float8[]) AS w (lexeme, qw)
    WHERE s.lexeme = w.lexeme AND s.df <= $2 * g.n
), best AS (
    SELECT page_id FROM (
        SELECT p.page_id, p.lexeme, max(q.qw * q.idf * p.tf / (p.tf + 1.2 * (0.25 + 0.75 * p.len::float8 / greatest(meta.avg_len, 1)))) AS s
        FROM q JOIN postings p ON p.town_id = ANY($5) AND p.lexeme = q.lexeme AND p.lang = q.lang, meta
        GROUP BY p.page_id, p.lexeme) t
    GROUP BY page_id ORDER BY sum(s) DESC, page_id LIMIT $3
)
SELECT 0::bigint, lexeme, idf FROM (SELECT DISTINCT ON (lexeme) lexeme, idf FROM q ORDER BY lexeme, df DESC, lang) u
UNION ALL
SELECT p.chunk_id, q.lexeme, q.idf * p.tf * 2.2 / (p.tf + 1.2 * (0.25 + 0.75 * p.len::float8 / greatest(meta.avg_len, 1)))
FROM q JOIN postings p ON p.town_id = ANY($5) AND p.lexeme = q.lexeme AND p.lang = q.lang, meta
-- An array, so that each lexeme's postings of the best pages are one index range scan
-- (town, lexeme, page_id = ANY), not a second pass over all of them.
WHERE p.page_id = ANY (ARRAY(SELECT page_id FROM best))`
)

// failure is err as a dependency's failure: a search whose citizen left (its context ended)
// says nothing of the dependency.
func failure(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// exactVectors tells whether a town's vectors are searched exactly, each compared with the
// question's, rather than through the HNSW index of every town's. The index finds the nearest
// of all towns and the town's filter keeps about town/all of them, so to find k of the town's
// the scan visits about k·all/town vectors; an exact search compares the town's own. Exact is
// cheaper while town² < k·all: at 200 towns of 600 chunks each a town is searched exactly, in
// a deployment of one town (or a town holding a tenth of all) through the index. Measured on 21
// towns: exact 2.6 ms against 12.7 ms through the index for a town of 562 chunks; 6.7 against
// 3.5 ms for the town of 1,159.
func exactVectors(town, all int) bool {
	return float64(town)*float64(town) < float64(candidates)*float64(all)
}

func (ix *Index) vector(ctx context.Context, q string, exact bool) ([]ranked, error) {
	// Without the embeddings model the question is answered on the lexical evidence alone.
	if !ix.deps.embed.Allow() {
		ix.deps.fallback("embeddings")
		return nil, nil
	}
	v, err := ix.embedder.Embed(ctx, []string{q})
	ix.deps.embed.Done(failure(ctx, err))
	if err != nil {
		ix.log.Warn("embedding the question failed, searching without the vector side", "err", err)
		ix.deps.fallback("embeddings")
		return nil, nil
	}
	d := ix.embedder.Dims()
	// The cast and the dimension predicate must match the partial HNSW index of this dimension.
	// Through the index, the scan goes on until it has found enough of the town's chunks
	// (pgvector's iterative index scans). The exact search reads the town's chunks by their key
	// (a CTE the planner cannot turn into an index scan) and sorts them by distance.
	sql := fmt.Sprintf(`SELECT id, 1 - (embedding::vector(%d) <=> $1::vector(%d)) FROM chunks
		WHERE town_id = ANY($4) AND vector_dims(embedding) = %d AND embedding_model = $2
		ORDER BY embedding::vector(%d) <=> $1::vector(%d) LIMIT $3`, d, d, d, d, d)
	if exact {
		sql = fmt.Sprintf(`WITH town AS MATERIALIZED (SELECT id, embedding FROM chunks
			WHERE town_id = ANY($4) AND vector_dims(embedding) = %d AND embedding_model = $2)
		SELECT id, 1 - (embedding::vector(%d) <=> $1::vector(%d)) AS similarity FROM town
		ORDER BY similarity DESC, id LIMIT $3`, d, d, d)
	}
	rows, err := database.Query(ctx, ix.pool, ix.scope.Search, map[string]string{"hnsw.iterative_scan": "relaxed_order"},
		sql, pgvector.NewVector(v[0]), ix.embedder.Model(), candidates, ix.scope.Search)
	if err != nil {
		return nil, fmt.Errorf("vector search: %w", err)
	}
	defer rows.Close()
	var out []ranked
	for rows.Next() {
		var r ranked
		if err := rows.Scan(&r.id, &r.score); err != nil {
			return nil, fmt.Errorf("vector search: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("vector search: %w", err)
	}
	return out, nil
}

// pageEvidence gathers one candidate page's evidence.
type pageEvidence struct {
	info     chunkInfo
	termBest map[string]float64 // lexeme -> its best BM25 contribution on the page
	chunks   map[int64]*chunkEvidence
	lex, vec float64
	coverage float64
}

type chunkEvidence struct {
	terms    map[string]float64
	lex, vec float64
}

// pages scores the candidate pages and keeps the best k, each with its matching chunks.
func (ix *Index) pages(ctx context.Context, lang string, units []unit, v *vocabulary, ev *evidence, vec []ranked, k int) ([]Hit, error) {
	ids := make([]int64, 0, len(ev.rows)+len(ev.ranked)+len(vec))
	for _, r := range ev.rows {
		ids = append(ids, r.chunk)
	}
	for _, r := range ev.ranked {
		ids = append(ids, r.id)
	}
	for _, r := range vec {
		ids = append(ids, r.id)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	byID, err := ix.chunkInfo(ctx, ids)
	if err != nil {
		return nil, err
	}
	pages := map[string]*pageEvidence{}
	chunkOf := func(id int64) (*pageEvidence, *chunkEvidence) {
		ci, ok := byID[id]
		if !ok {
			return nil, nil // its page was retired since
		}
		p := pages[ci.url]
		if p == nil {
			p = &pageEvidence{info: ci, termBest: map[string]float64{}, chunks: map[int64]*chunkEvidence{}}
			pages[ci.url] = p
		}
		c := p.chunks[id]
		if c == nil {
			c = &chunkEvidence{terms: map[string]float64{}}
			p.chunks[id] = c
		}
		return p, c
	}
	for _, r := range ev.rows {
		p, c := chunkOf(r.chunk)
		if p == nil {
			continue
		}
		c.terms[r.lexeme] = r.s
		p.termBest[r.lexeme] = max(p.termBest[r.lexeme], r.s)
	}
	for _, r := range ev.ranked {
		if p, c := chunkOf(r.id); p != nil {
			c.lex = r.score
			p.lex = max(p.lex, r.score)
		}
	}
	// The vector side's cosines, scaled between the weakest and the strongest candidate: what
	// counts is how much closer a chunk is than the rest, whatever the embedder's typical range.
	lo, hi := 1.0, -1.0
	for _, r := range vec {
		lo, hi = min(lo, r.score), max(hi, r.score)
	}
	for _, r := range vec {
		p, c := chunkOf(r.id)
		if p == nil {
			continue
		}
		c.vec = r.score
		p.vec = max(p.vec, r.score)
	}
	lift := func(v float64) float64 {
		if v <= lo || lo >= 1 {
			return 0
		}
		return (v - lo) / (1 - lo)
	}
	scaleVec := func(v float64) float64 {
		if v == 0 || hi-lo < 1e-9 {
			return 0
		}
		return (v - lo) / (hi - lo)
	}
	qw := questionWeights{german: lang == "de" || lang == "de-simple", unknown: v.unknownIDF(),
		idf: func(t string) float64 { return ev.idf[t] }}
	if ev.ranked != nil {
		// Meilisearch says nothing of terms: their IDF comes from the vocabulary.
		qw.idf = v.idf
	}
	if ev.rows != nil || ev.idf != nil {
		for _, p := range pages {
			p.score(units, v, qw)
		}
	}
	maxLex, maxChunk := 0.0, 0.0
	for _, p := range pages {
		maxLex = max(maxLex, p.lex)
		for _, c := range p.chunks {
			maxChunk = max(maxChunk, c.lex)
		}
	}
	scale := func(v, m float64) float64 {
		if m <= 0 {
			return 0
		}
		return v / m
	}
	hits := make([]Hit, 0, len(pages))
	for _, p := range pages {
		h := Hit{URL: p.info.url, Town: p.info.town, Title: p.info.title, Lang: p.info.lang, Alternates: p.info.alternates,
			Lexical: p.lex, Vector: p.vec, Coverage: p.coverage, Lift: lift(p.vec),
			Score: scale(p.lex, maxLex) + ix.vectorWeight*scaleVec(p.vec), Matched: p.matched(units)}
		var cs []ChunkHit
		for id, c := range p.chunks {
			cs = append(cs, ChunkHit{ID: id, Headings: byID[id].heads,
				Score: scale(c.lex, maxChunk) + ix.vectorWeight*scaleVec(c.vec)})
		}
		sort.Slice(cs, func(i, j int) bool {
			if cs[i].Score != cs[j].Score {
				return cs[i].Score > cs[j].Score
			}
			return byID[cs[i].ID].ord < byID[cs[j].ID].ord
		})
		h.ChunkID, h.Headings, h.ChunkScore = cs[0].ID, cs[0].Headings, cs[0].Score
		h.Chunks = cs[1:]
		hits = append(hits, h)
	}
	byScore := func(hits []Hit) {
		sort.SliceStable(hits, func(i, j int) bool {
			if d := hits[i].Score - hits[j].Score; d > 1e-12 || d < -1e-12 {
				return d > 0
			}
			return hits[i].URL < hits[j].URL
		})
	}
	byScore(hits)
	hits = mergeTranslations(hits)
	byScore(hits)
	if len(hits) > k {
		hits = hits[:k]
	}
	if err := ix.loadTexts(ctx, hits); err != nil {
		return nil, err
	}
	if ev.ranked != nil {
		// A lexical side that ranks whole chunks: the page's coverage from the texts of its
		// matching chunks and its title, so that confidence means the same on either side.
		for i := range hits {
			hits[i].Coverage = qw.coverage(units, hitLexemes(hits[i]))
		}
	}
	return hits, nil
}

// hitLexemes returns whether a lexeme stands in the hit's title field or matching chunks.
func hitLexemes(h Hit) func(string) bool {
	set := map[string]bool{}
	add := func(text string) {
		for _, t := range analysis.Lexemes(text, h.Lang) {
			set[t] = true
		}
	}
	add(h.Title)
	add(strings.Join(h.Headings, " ") + "\n" + h.Text)
	for _, c := range h.Chunks {
		add(strings.Join(c.Headings, " ") + "\n" + c.Text)
	}
	return func(t string) bool { return set[t] }
}

// score turns a page's rows into its evidence: each unit of the question counts once, by the
// best of its ways' best occurrence on the page, plus titleWeight for a word in the page's
// title. A phrase counts only where all its words are, as their mean. coverage is the share of
// the question's units, weighted by their IDF, that the page holds at all: a page that holds the
// rare words of a question is about it.
// questionWeights weigh the question's units for coverage: by the IDF of their lexemes, and a
// word of a German question that no page uses as a rare word that no page holds. Such a word is
// likely what the question is about (Rundfunkbeitrag, Bahncard); in another language most of the
// citizen's words are unknown to German pages, and the glossary's concepts carry the question.
type questionWeights struct {
	idf     func(string) float64
	german  bool
	unknown float64
}

// coverage is the share of the question's units, weighted, that a page holds (has).
func (q questionWeights) coverage(units []unit, has func(string) bool) float64 {
	var have, want float64
	for _, u := range units {
		top, held := 0.0, false
		for _, al := range u.alts {
			top = max(top, al.weight*phrase(al.terms, q.idf))
			held = held || phrase(al.terms, func(t string) float64 {
				if has(t) {
					return 1
				}
				return 0
			}) > 0
		}
		if top == 0 && u.own && q.german && u.long {
			top = q.unknown
		}
		want += top
		if held {
			have += top
		}
	}
	if want == 0 {
		return 0
	}
	return have / want
}

func (p *pageEvidence) score(units []unit, v *vocabulary, q questionWeights) {
	title := p.info.titleTerms
	inTitle := func(t string) float64 {
		if title[t] {
			return v.titleIDF(t)
		}
		return 0
	}
	// Per unit: its best evidence anywhere on the page, in the title, and in each chunk.
	onPage := make([]float64, len(units))
	inHead := make([]float64, len(units))
	perChunk := map[*chunkEvidence][]float64{}
	for i, u := range units {
		for _, al := range u.alts {
			onPage[i] = max(onPage[i], al.weight*phrase(al.terms, func(t string) float64 { return p.termBest[t] }))
			inHead[i] = max(inHead[i], al.weight*phrase(al.terms, inTitle))
		}
		for _, c := range p.chunks {
			cb := 0.0
			for _, al := range u.alts {
				cb = max(cb, al.weight*phrase(al.terms, func(t string) float64 { return c.terms[t] }))
			}
			c.lex += cb
			if perChunk[c] == nil {
				perChunk[c] = make([]float64, len(units))
			}
			perChunk[c][i] = cb
		}
	}
	// The page's evidence is its best chunk's, plus a bounded share of what the rest of the page
	// adds for units that chunk lacks, plus the title: a page cannot win by the number of its
	// sections (or a hub page by the number of services it lists), but a service page whose
	// fees and documents stand in different sections still counts both.
	var best *chunkEvidence
	for _, c := range p.chunks {
		if best == nil || c.lex > best.lex {
			best = c
		}
	}
	for i := range units {
		in := 0.0
		if best != nil {
			in = perChunk[best][i]
		}
		p.lex += in + elsewhereWeight*(onPage[i]-in) + titleWeight*inHead[i]
	}
	p.coverage = q.coverage(units, func(t string) bool { return p.termBest[t] > 0 || title[t] })
}

// matched returns the lexemes of the question's units that the page holds.
func (p *pageEvidence) matched(units []unit) []string {
	var out []string
	for _, u := range units {
		for _, al := range u.alts {
			for _, t := range al.terms {
				if p.termBest[t] > 0 && !slices.Contains(out, t) {
					out = append(out, t)
				}
			}
		}
	}
	return out
}

func dedupe(ts []string) []string {
	out := ts[:0:0]
	for _, t := range ts {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// phrase is the evidence for all of terms: their mean, or 0 when one is missing.
func phrase(terms []string, of func(string) float64) float64 {
	sum := 0.0
	for _, t := range terms {
		e := of(t)
		if e <= 0 {
			return 0
		}
		sum += e
	}
	return sum / float64(len(terms))
}

// chunkInfo returns what search shows of the chunks ids of active pages, from the cache where
// it can.
func (ix *Index) chunkInfo(ctx context.Context, ids []int64) (map[int64]chunkInfo, error) {
	found, missing := ix.chunkInfos.meta.get(ids)
	if len(missing) == 0 {
		return found, nil
	}
	rows, err := ix.query(ctx, `SELECT c.id, p.town_id, c.ord, c.heading_path, p.url, p.title, p.doc_title, p.lang, p.alternates
		FROM chunks c JOIN pages p ON p.town_id = c.town_id AND p.id = c.page_id
		WHERE c.town_id = ANY($2) AND c.id = ANY($1) AND p.active`, missing, ix.scope.Search)
	if err != nil {
		return nil, fmt.Errorf("load hits: %w", err)
	}
	defer rows.Close()
	loaded := map[int64]chunkInfo{}
	titles := titleSets{}
	for rows.Next() {
		var id int64
		var ci chunkInfo
		if err := rows.Scan(&id, &ci.town, &ci.ord, &ci.heads, &ci.url, &ci.title, &ci.docTitle, &ci.lang, &ci.alternates); err != nil {
			return nil, fmt.Errorf("load hits: %w", err)
		}
		ci.titleTerms = titles.of(ci)
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
		rows, err := ix.query(ctx, "SELECT id, body FROM chunks WHERE town_id = ANY($2) AND id = ANY($1)", missing, ix.scope.Search)
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
	rows, err := ix.query(ctx, `SELECT c.id, c.heading_path, c.body FROM chunks c JOIN pages p ON p.town_id = c.town_id AND p.id = c.page_id
		WHERE p.town_id = ANY($2) AND p.url = $1 AND p.active ORDER BY p.town_id = $3 DESC, c.ord`, url, ix.scope.Search, ix.scope.Town)
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
