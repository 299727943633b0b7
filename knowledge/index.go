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
	"github.com/pgvector/pgvector-go"

	"github.com/citybot-project/citybot/analysis"
)

// Index is the knowledge base: pages and chunks in PostgreSQL with their lexical and vector
// indexes, and optionally a Meilisearch index kept in step.
type Index struct {
	pool     *pgxpool.Pool
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
}

// SetThesaurus gives the index a thesaurus of German (nil: none). Call it before the index
// serves searches.
func (ix *Index) SetThesaurus(t *Thesaurus) { ix.thesaurus = t }

// SetReranker gives the index an optional cross-encoder reranker (nil: none). Call it before
// the index serves searches.
func (ix *Index) SetReranker(r Reranker) { ix.reranker = r }

// Reranker is the index's optional cross-encoder reranker, nil when there is none.
func (ix *Index) Reranker() Reranker { return ix.reranker }

// NewIndex returns an Index over pool. meili may be nil.
func NewIndex(ctx context.Context, pool *pgxpool.Pool, emb Embedder, g *Glossary, meili *Meili, log *slog.Logger) (*Index, error) {
	if log == nil {
		log = slog.Default()
	}
	ix := &Index{pool: pool, embedder: emb, glossary: g, detector: NewDetector(), meili: meili, log: log, vectorWeight: 1,
		pageChunks: newPageCache(time.Minute, time.Now)}
	if _, ok := emb.(*HashEmbedder); ok {
		ix.vectorWeight = 0.5
	}
	if err := ix.ensureVectorIndex(ctx); err != nil {
		return nil, err
	}
	return ix, nil
}

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
	_, err := ix.pool.Exec(ctx, `INSERT INTO index_meta (key, value) VALUES ('embedder', $1)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, ix.embedder.Model())
	return err
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
	err := ix.pool.QueryRow(ctx, `SELECT p.id, p.content_hash, p.active,
		EXISTS (SELECT 1 FROM chunks c WHERE c.page_id = p.id AND c.embedding_model IS DISTINCT FROM $2)
		FROM pages p WHERE p.url = $1`, url, ix.embedder.Model()).Scan(&s.id, &s.hash, &s.active, &s.outdated)
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
	err = pgx.BeginFunc(ctx, ix.pool, func(tx pgx.Tx) error {
		var id int64
		var modified any
		if !p.Modified.IsZero() {
			modified = p.Modified
		}
		err := tx.QueryRow(ctx, `INSERT INTO pages (url, source, title, lang, description, modified, alternates, content_hash, doc_title)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (url) DO UPDATE SET source = EXCLUDED.source, title = EXCLUDED.title, doc_title = EXCLUDED.doc_title, lang = EXCLUDED.lang,
				description = EXCLUDED.description, modified = EXCLUDED.modified, alternates = EXCLUDED.alternates,
				content_hash = EXCLUDED.content_hash, active = true, retired_at = NULL, updated_at = now()
			RETURNING id`, p.URL, source, p.Title, p.Lang, p.Description, modified, p.Alternates, p.Hash, p.DocTitle).Scan(&id)
		if err != nil {
			return fmt.Errorf("upsert page: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM chunks WHERE page_id = $1", id); err != nil {
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
			batch.Queue(`INSERT INTO chunks (page_id, ord, heading_path, body, tsv, lex_len, embedding, embedding_model)
				VALUES ($1, $2, $3, $4,
					setweight(to_tsvector('simple', $5), 'A') || setweight(to_tsvector('simple', $6), 'B') ||
					setweight(to_tsvector('simple', $7), 'D'),
					$8, $9, $10)`,
				id, i, c.Headings, c.Text, strings.Join(heads, " "), strings.Join(extra, " "), strings.Join(body, " "),
				len(heads)+len(extra)+len(body), pgvector.NewVector(vecs[i]), ix.embedder.Model())
		}
		if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
			return fmt.Errorf("insert chunks: %w", err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO postings (lexeme, chunk_id, tf, len, page_id, lang)
			SELECT u.lexeme, c.id,
				(SELECT sum(CASE w WHEN 'A' THEN 3 WHEN 'B' THEN 2 ELSE 1 END) FROM unnest(u.weights) w), c.lex_len, c.page_id, $2
			FROM chunks c, unnest(c.tsv) u WHERE c.page_id = $1`, id, lang)
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
	err := pgx.BeginFunc(ctx, ix.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE pages SET active = false, retired_at = now(), updated_at = now()
			WHERE source = $1 AND active AND NOT (url = ANY($2)) RETURNING id, url`, source, keep)
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
		_, err = tx.Exec(ctx, "DELETE FROM chunks WHERE page_id = ANY($1)", ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("retire pages of %s: %w", source, err)
	}
	return urls, nil
}

// refreshStats recomputes the document frequencies and corpus size that BM25 needs.
func (ix *Index) refreshStats(ctx context.Context) error {
	if err := pgx.BeginFunc(ctx, ix.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM lexeme_stats"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO lexeme_stats (lexeme, lang, df)
			SELECT lexeme, lang, count(*) FROM postings GROUP BY lexeme, lang`); err != nil {
			return fmt.Errorf("compute lexeme stats: %w", err)
		}
		var n, en int64
		var avg float64
		if err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE p.lang LIKE 'en%'), coalesce(avg(lex_len), 0)
			FROM chunks c JOIN pages p ON p.id = c.page_id`).Scan(&n, &en, &avg); err != nil {
			return err
		}
		for k, v := range map[string]string{"chunks": strconv.FormatInt(n, 10), "avg_len": strconv.FormatFloat(avg, 'f', 3, 64),
			"chunks:de": strconv.FormatInt(n-en, 10), "chunks:en": strconv.FormatInt(en, 10)} {
			if _, err := tx.Exec(ctx, `INSERT INTO index_meta (key, value) VALUES ($1, $2)
				ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, k, v); err != nil {
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
	err := ix.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM pages WHERE active), (SELECT count(*) FROM pages WHERE NOT active),
		(SELECT count(*) FROM chunks)`).Scan(&s.Pages, &s.RetiredPages, &s.Chunks)
	s.Embedder = ix.embedder.Model()
	return s, err
}
