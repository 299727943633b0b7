package knowledge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/internal/breaker"

	"github.com/citybot-project/citybot/database"
	"github.com/pgvector/pgvector-go"

	"github.com/citybot-project/citybot/analysis"
)

// Index is the knowledge base: pages and chunks in PostgreSQL with their lexical and vector
// indexes, and optionally a Meilisearch index kept in step.
type Index struct {
	pool     *pgxpool.Pool
	scope    Scope
	embedder Embedder
	glossary *Glossary
	detector *Detector
	meili    *Meili // nil: PostgreSQL full-text search is the lexical side
	// vectorWeight is the vector side's share in fusion; both sides are scaled to their best
	// candidate. The offline HashEmbedder (hashed stems and character n-grams) mostly repeats
	// what the lexical side knows and cannot tell one town's version of a service from
	// another's: it weighs half, which left MRR equal or better on every corpus measured (sample
	// 0.82 = 0.82, real pages 0.74 → 0.82, Auenstadt 0.80 → 0.82). A real model reads meaning
	// and weighs fully (not measured here: no model can be had).
	vectorWeight float64
	log          *slog.Logger
	pageChunks   *pageCache
	chunkInfos   chunkCache
	vocab        corpusView[*vocabulary]
	numbers      corpusView[map[string]struct{}] // the numbers the pages state, see numbers.go
	// reranker, when set, is a cross-encoder that reorders the best pages; nil (the offline
	// default) leaves ranking to the evidence.
	reranker Reranker
	// thesaurus, when set, relates the question's nouns to synonyms and hypernyms the pages
	// use (see thesaurus.go).
	thesaurus *Thesaurus
	// deps are the breakers of the remote parts, shared by every town's index.
	deps *dependencies
}

// dependencies keep a search from waiting on a remote part that keeps failing: each has a
// breaker, and a search goes on without it (the lexical side in PostgreSQL instead of
// Meilisearch, no vector side without the embeddings model, the evidence's order without the
// reranker), telling fallback.
type dependencies struct {
	embed, meili, rerank *breaker.Breaker
	fallback             func(dependency string)
}

func newDependencies() *dependencies {
	b := func() *breaker.Breaker { return breaker.New(3, 30*time.Second, time.Now) }
	return &dependencies{embed: b(), meili: b(), rerank: b(), fallback: func(string) {}}
}

// OnFallback sets what is told each time a search goes on without a dependency ("embeddings",
// "meilisearch", "reranker"), for the metrics. Call it before the index serves searches.
func (ix *Index) OnFallback(f func(dependency string)) { ix.deps.fallback = f }

// SetThesaurus gives the index a thesaurus of German (nil: none). Call it before the index
// serves searches.
func (ix *Index) SetThesaurus(t *Thesaurus) { ix.thesaurus = t }

// SetReranker gives the index an optional cross-encoder reranker (nil: none). Call it before
// the index serves searches.
func (ix *Index) SetReranker(r Reranker) { ix.reranker = r }

// Reranker is the index's optional cross-encoder reranker, nil when there is none.
func (ix *Index) Reranker() Reranker { return ix.reranker }

// Scope is the town an Index serves: it ingests into Town and searches the pages of Search,
// Town's own and those of the collections it is linked to (a Kreis's). Every query names them:
// an index never reads another town's rows.
type Scope struct {
	Town   int
	Search []int // Town first; nil means Town alone
}

func (s Scope) search() []int {
	if len(s.Search) == 0 {
		return []int{s.Town}
	}
	return s.Search
}

// NewIndex returns an Index of scope's town over pool. meili may be nil.
func NewIndex(ctx context.Context, pool *pgxpool.Pool, scope Scope, emb Embedder, g *Glossary, meili *Meili, log *slog.Logger) (*Index, error) {
	if log == nil {
		log = slog.Default()
	}
	scope.Search = scope.search()
	ix := &Index{pool: pool, scope: scope, embedder: emb, glossary: g, detector: NewDetector(), meili: meili, log: log, vectorWeight: 1,
		pageChunks: newPageCache(time.Minute, time.Now), deps: newDependencies()}
	if _, ok := emb.(*HashEmbedder); ok {
		ix.vectorWeight = 0.5
	}
	if err := ix.ensureVectorIndex(ctx); err != nil {
		return nil, err
	}
	return ix, nil
}

// ForTown returns an Index of another town that shares this one's embedder, detector,
// thesaurus, reranker and Meilisearch, with caches of its own. g is the town's glossary (nil:
// this index's).
func (ix *Index) ForTown(ctx context.Context, scope Scope, g *Glossary) (*Index, error) {
	if g == nil {
		g = ix.glossary
	}
	scope.Search = scope.search()
	t := &Index{pool: ix.pool, scope: scope, embedder: ix.embedder, glossary: g, detector: ix.detector, meili: ix.meili,
		log: ix.log, vectorWeight: ix.vectorWeight, pageChunks: newPageCache(time.Minute, time.Now),
		reranker: ix.reranker, thesaurus: ix.thesaurus, deps: ix.deps}
	if err := t.recordEmbedder(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

// Scope is the town the index serves.
func (ix *Index) Scope() Scope { return ix.scope }

// ensureVectorIndex creates the HNSW index for the embedder's dimension. The embedding column
// has no fixed dimension (the model is configurable), so the index is on a cast, per dimension,
// as pgvector's documentation suggests for mixed dimensions.
func (ix *Index) ensureVectorIndex(ctx context.Context) error {
	d := ix.embedder.Dims()
	sql := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS chunks_embedding_%d ON chunks
		USING hnsw ((embedding::vector(%d)) vector_cosine_ops) WHERE vector_dims(embedding) = %d`, d, d, d)
	if _, err := ix.pool.Exec(ctx, sql); err != nil {
		return fmt.Errorf("create vector index: %w", err)
	}
	return ix.recordEmbedder(ctx)
}

// recordEmbedder notes the town's embedding model (the HNSW index cannot lead with the town:
// searches filter its candidates by town, see vector).
func (ix *Index) recordEmbedder(ctx context.Context) error {
	err := ix.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO index_meta (town_id, key, value) VALUES ($1, 'embedder', $2)
			ON CONFLICT (town_id, key) DO UPDATE SET value = EXCLUDED.value`, ix.scope.Town, ix.embedder.Model())
		return err
	})
	if err != nil {
		return fmt.Errorf("record the embedder of town %d: %w", ix.scope.Town, err)
	}
	return nil
}

// pageState is what the database knows of a URL before an ingest touches it.
type pageState struct {
	id       int64
	hash     string
	active   bool
	outdated bool // some chunk lacks an embedding of the current model
}

func (ix *Index) state(ctx context.Context, url string) (pageState, error) {
	var s pageState
	err := ix.queryRow(ctx, `SELECT p.id, p.content_hash, p.active,
		EXISTS (SELECT 1 FROM chunks c WHERE c.town_id = p.town_id AND c.page_id = p.id AND c.embedding_model IS DISTINCT FROM $2)
		FROM pages p WHERE p.town_id = $3 AND p.url = $1`, url, ix.embedder.Model(), ix.scope.Town).Scan(&s.id, &s.hash, &s.active, &s.outdated)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	return s, err
}

// Outcome of saving one page.
type Outcome int

// Outcomes of saving a page.
const (
	Unchanged Outcome = iota
	New
	Changed
)

// save stores p for source: nothing when it is unchanged, else the page and all its chunks
// replaced in one transaction, so a reader never sees half a page.
func (ix *Index) save(ctx context.Context, source string, p *Page) (Outcome, error) {
	st, err := ix.state(ctx, p.URL)
	if err != nil {
		return 0, fmt.Errorf("look up page: %w", err)
	}
	if st.id != 0 && st.active && st.hash == p.Hash && !st.outdated {
		return Unchanged, nil
	}
	texts := make([]string, len(p.Chunks))
	for i, c := range p.Chunks {
		texts[i] = embedText(c)
	}
	vecs, err := ix.embedder.Embed(ctx, texts)
	if err != nil {
		return 0, fmt.Errorf("embed: %w", err)
	}
	err = ix.write(ctx, func(tx pgx.Tx) error {
		var id int64
		var modified any
		if !p.Modified.IsZero() {
			modified = p.Modified
		}
		err := tx.QueryRow(ctx, `INSERT INTO pages (town_id, url, source, title, lang, description, modified, alternates, content_hash, doc_title)
			VALUES ($10, $1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (town_id, url) DO UPDATE SET source = EXCLUDED.source, title = EXCLUDED.title, doc_title = EXCLUDED.doc_title, lang = EXCLUDED.lang,
				description = EXCLUDED.description, modified = EXCLUDED.modified, alternates = EXCLUDED.alternates,
				content_hash = EXCLUDED.content_hash, active = true, retired_at = NULL, updated_at = now()
			RETURNING id`, p.URL, source, p.Title, p.Lang, p.Description, modified, p.Alternates, p.Hash, p.DocTitle, ix.scope.Town).Scan(&id)
		if err != nil {
			return fmt.Errorf("upsert page: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM chunks WHERE town_id = $2 AND page_id = $1", id, ix.scope.Town); err != nil {
			return fmt.Errorf("delete old chunks: %w", err)
		}
		lang := stemLang(p.Lang)
		var batch pgx.Batch
		for i, c := range p.Chunks {
			heads := analysis.Lexemes(strings.Join(c.Headings, " "), lang)
			var extra []string
			if i == 0 {
				extra = analysis.Lexemes(p.Description+"\n"+p.DocTitle, lang)
			}
			body := analysis.Lexemes(c.Text, lang)
			batch.Queue(`INSERT INTO chunks (town_id, page_id, ord, heading_path, body, tsv, lex_len, embedding, embedding_model)
				VALUES ($11, $1, $2, $3, $4,
					setweight(to_tsvector('simple', $5), 'A') || setweight(to_tsvector('simple', $6), 'B') ||
					setweight(to_tsvector('simple', $7), 'D'),
					$8, $9, $10)`,
				id, i, c.Headings, c.Text, strings.Join(heads, " "), strings.Join(extra, " "), strings.Join(body, " "),
				len(heads)+len(extra)+len(body), pgvector.NewVector(vecs[i]), ix.embedder.Model(), ix.scope.Town)
		}
		if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
			return fmt.Errorf("insert chunks: %w", err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO postings (town_id, lexeme, chunk_id, tf, len, page_id, lang)
			SELECT c.town_id, u.lexeme, c.id,
				(SELECT sum(CASE w WHEN 'A' THEN 3 WHEN 'B' THEN 2 ELSE 1 END) FROM unnest(u.weights) w), c.lex_len, c.page_id, $2
			FROM chunks c, unnest(c.tsv) u WHERE c.town_id = $3 AND c.page_id = $1`, id, lang, ix.scope.Town)
		if err != nil {
			return fmt.Errorf("insert postings: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if st.id == 0 {
		return New, nil
	}
	return Changed, nil
}

// embedText is what the embedder sees of a chunk: its heading path gives a short section its topic.
func embedText(c Chunk) string {
	return strings.Join(c.Headings, " › ") + "\n" + c.Text
}

// stemLang is the language a page's lexemes are stemmed in (see analysis.Stem), as its postings
// record it.
func stemLang(lang string) string {
	if strings.HasPrefix(lang, "en") {
		return "en"
	}
	return "de"
}

// retire marks the active pages of source whose URL is not in keep as retired and deletes their
// chunks, in one transaction. It returns the retired URLs.
func (ix *Index) retire(ctx context.Context, source string, keep []string) ([]string, error) {
	var urls []string
	err := ix.write(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE pages SET active = false, retired_at = now(), updated_at = now()
			WHERE town_id = $3 AND source = $1 AND active AND NOT (url = ANY($2)) RETURNING id, url`, source, keep, ix.scope.Town)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			var u string
			if err := rows.Scan(&id, &u); err != nil {
				return err
			}
			ids, urls = append(ids, id), append(urls, u)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM chunks WHERE town_id = $2 AND page_id = ANY($1)", ids, ix.scope.Town)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("retire pages of %s: %w", source, err)
	}
	return urls, nil
}

// refreshStats recomputes the document frequencies and corpus size that BM25 needs.
func (ix *Index) refreshStats(ctx context.Context) error {
	if err := ix.write(ctx, func(tx pgx.Tx) error {
		town := ix.scope.Town
		if _, err := tx.Exec(ctx, "DELETE FROM lexeme_stats WHERE town_id = $1", town); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO lexeme_stats (town_id, lexeme, lang, df)
			SELECT town_id, lexeme, lang, count(*) FROM postings WHERE town_id = $1 GROUP BY town_id, lexeme, lang`, town); err != nil {
			return fmt.Errorf("compute lexeme stats: %w", err)
		}
		var n, en int64
		var avg float64
		if err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE p.lang LIKE 'en%'), coalesce(avg(lex_len), 0)
			FROM chunks c JOIN pages p ON p.town_id = c.town_id AND p.id = c.page_id WHERE c.town_id = $1`, town).Scan(&n, &en, &avg); err != nil {
			return err
		}
		for k, v := range map[string]string{"chunks": strconv.FormatInt(n, 10), "avg_len": strconv.FormatFloat(avg, 'f', 3, 64),
			"chunks:de": strconv.FormatInt(n-en, 10), "chunks:en": strconv.FormatInt(en, 10)} {
			if _, err := tx.Exec(ctx, `INSERT INTO index_meta (town_id, key, value) VALUES ($1, $2, $3)
				ON CONFLICT (town_id, key) DO UPDATE SET value = EXCLUDED.value`, town, k, v); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	// Fresh planner statistics (with stale ones PostgreSQL sorts every vector instead of using
	// HNSW) and a fresh visibility map, so BM25 reads postings from the index alone.
	for _, sql := range []string{"ANALYZE chunks", "ANALYZE lexeme_stats", "VACUUM (ANALYZE) postings"} {
		if _, err := ix.pool.Exec(ctx, sql); err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
	}
	return nil
}

// Stats counts what the index holds.
type Stats struct {
	Pages, RetiredPages, Chunks int64
	Embedder                    string
}

// Stats reports the size of the index.
func (ix *Index) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := ix.queryRow(ctx, `SELECT
		(SELECT count(*) FROM pages WHERE town_id = $1 AND active), (SELECT count(*) FROM pages WHERE town_id = $1 AND NOT active),
		(SELECT count(*) FROM chunks WHERE town_id = $1)`, ix.scope.Town).Scan(&s.Pages, &s.RetiredPages, &s.Chunks)
	s.Embedder = ix.embedder.Model()
	return s, err
}

// read begins a transaction that sees the rows of the index's scope (its town and linked
// collections) and nothing else, even where a query forgot its town condition; the caller rolls
// it back when done.
func (ix *Index) read(ctx context.Context) (pgx.Tx, error) {
	return database.BeginTown(ctx, ix.pool, ix.scope.Search)
}

// write runs fn in a transaction that sees and writes the town's own rows only.
func (ix *Index) write(ctx context.Context, fn func(pgx.Tx) error) error {
	return database.InTown(ctx, ix.pool, []int{ix.scope.Town}, fn)
}

// query runs one query that sees the rows of the index's scope (its town and linked
// collections) and nothing else, even where it forgot its town condition.
func (ix *Index) query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return database.Query(ctx, ix.pool, ix.scope.Search, nil, sql, args...)
}

// queryRow is query for one row.
func (ix *Index) queryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return database.QueryRow(ctx, ix.pool, ix.scope.Search, sql, args...)
}
