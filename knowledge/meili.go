package knowledge

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/meilisearch/meilisearch-go"

	"github.com/citybot-project/citybot/analysis"
)

// Meili keeps a Meilisearch index of the chunks in step with the database, and serves the
// lexical side of retrieval when MEILI_URL is set. The database stays the store of record: each
// page remembers which content hash was last pushed, so a failed push is retried on the next ingest.
type Meili struct {
	index meilisearch.IndexManager
	svc   meilisearch.ServiceManager
}

// meiliDoc is one chunk in Meilisearch. lex holds citybot's own normalised lexemes (folded,
// stemmed), which the query uses too, so umlauts and inflections meet as in PostgreSQL.
type meiliDoc struct {
	ID       int64    `json:"id"`
	TownID   int      `json:"town_id"`
	PageID   int64    `json:"page_id"`
	URL      string   `json:"url"`
	Title    string   `json:"title"`
	Lang     string   `json:"lang"`
	Headings []string `json:"headings"`
	Body     string   `json:"body"`
	Lex      string   `json:"lex"`
}

// maxMeiliWords is how many query words Meilisearch considers; it ignores the rest.
const maxMeiliWords = 10

// NewMeili connects to Meilisearch at url and applies citybot's index settings, including the
// synonyms of the glossary's colloquial German.
func NewMeili(ctx context.Context, url, apiKey, indexName string, g *Glossary) (*Meili, error) {
	svc := meilisearch.New(url, meilisearch.WithAPIKey(apiKey))
	m := &Meili{svc: svc, index: svc.Index(indexName)}
	task, err := m.index.UpdateSettingsWithContext(ctx, &meilisearch.Settings{
		SearchableAttributes: []string{"lex", "title", "headings", "body"},
		FilterableAttributes: []string{"town_id", "page_id", "lang", "url"},
		DisplayedAttributes:  []string{"id", "town_id", "page_id", "url", "title", "lang", "headings", "body"},
		Synonyms:             g.meiliSynonyms(),
	})
	if err != nil {
		return nil, fmt.Errorf("meilisearch settings: %w", err)
	}
	if err := m.wait(ctx, task); err != nil {
		return nil, fmt.Errorf("meilisearch settings: %w", err)
	}
	return m, nil
}

func (m *Meili) wait(ctx context.Context, t *meilisearch.TaskInfo) error {
	task, err := m.svc.WaitForTaskWithContext(ctx, t.TaskUID, 50*time.Millisecond)
	if err != nil {
		return err
	}
	if task.Status != meilisearch.TaskStatusSucceeded {
		return fmt.Errorf("task %d %s: %s", t.TaskUID, task.Status, task.Error.Message)
	}
	return nil
}

// sync pushes the town's pages whose content changed since the last push and removes retired
// ones. All towns share one index, each document carrying its town: Meilisearch's documentation
// recommends a filterable tenant attribute over an index per tenant.
func (m *Meili) sync(ctx context.Context, ix *Index) error {
	town := ix.scope.Town
	tx, err := ix.read(ctx)
	if err != nil {
		return fmt.Errorf("pages to sync: %w", err)
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `SELECT id, content_hash, active FROM pages
		WHERE town_id = $1 AND ((active AND search_hash IS DISTINCT FROM content_hash) OR (NOT active AND search_hash IS NOT NULL))`, town)
	if err != nil {
		return fmt.Errorf("pages to sync: %w", err)
	}
	var ids []int64
	hashes := map[int64]*string{}
	for rows.Next() {
		var id int64
		var hash string
		var active bool
		if err := rows.Scan(&id, &hash, &active); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
		if active {
			hashes[id] = &hash
		} else {
			hashes[id] = nil
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	idList := make([]string, len(ids))
	for i, id := range ids {
		idList[i] = strconv.FormatInt(id, 10)
	}
	task, err := m.index.DeleteDocumentsByFilterWithContext(ctx, "town_id = "+strconv.Itoa(town)+" AND page_id IN ["+strings.Join(idList, ", ")+"]", nil)
	if err != nil {
		return fmt.Errorf("meilisearch delete: %w", err)
	}
	if err := m.wait(ctx, task); err != nil {
		return fmt.Errorf("meilisearch delete: %w", err)
	}
	docs, err := meiliDocs(ctx, tx, town, ids)
	if err != nil {
		return err
	}
	if len(docs) > 0 {
		pk := "id"
		task, err := m.index.AddDocumentsWithContext(ctx, docs, &meilisearch.DocumentOptions{PrimaryKey: &pk})
		if err != nil {
			return fmt.Errorf("meilisearch add: %w", err)
		}
		if err := m.wait(ctx, task); err != nil {
			return fmt.Errorf("meilisearch add: %w", err)
		}
	}
	tx.Rollback(ctx)
	return ix.write(ctx, func(tx pgx.Tx) error {
		for id, hash := range hashes {
			if _, err := tx.Exec(ctx, "UPDATE pages SET search_hash = $2 WHERE town_id = $3 AND id = $1", id, hash, town); err != nil {
				return fmt.Errorf("record meilisearch sync: %w", err)
			}
		}
		return nil
	})
}

func meiliDocs(ctx context.Context, tx pgx.Tx, town int, pageIDs []int64) ([]meiliDoc, error) {
	rows, err := tx.Query(ctx, `SELECT c.id, p.town_id, p.id, p.url, p.title, p.lang, c.heading_path, c.body
		FROM chunks c JOIN pages p ON p.town_id = c.town_id AND p.id = c.page_id
		WHERE p.town_id = $2 AND p.active AND p.id = ANY($1) ORDER BY c.id`, pageIDs, town)
	if err != nil {
		return nil, fmt.Errorf("chunks to sync: %w", err)
	}
	defer rows.Close()
	var docs []meiliDoc
	for rows.Next() {
		var d meiliDoc
		if err := rows.Scan(&d.ID, &d.TownID, &d.PageID, &d.URL, &d.Title, &d.Lang, &d.Headings, &d.Body); err != nil {
			return nil, err
		}
		d.Lex = strings.Join(analysis.Lexemes(strings.Join(d.Headings, " ")+" "+d.Body, d.Lang), " ")
		docs = append(docs, d)
	}
	return docs, rows.Err()
}

func (m *Meili) search(ctx context.Context, a *Analysis, k int, scope []int) ([]ranked, error) {
	// The glossary's German terms carry the topic: they go first, since Meilisearch reads only
	// the first ten words.
	terms := append(append([]string(nil), a.Added...), a.Own...)
	if len(terms) > maxMeiliWords {
		terms = terms[:maxMeiliWords]
	}
	res, err := m.index.SearchWithContext(ctx, strings.Join(terms, " "), &meilisearch.SearchRequest{
		Limit:                int64(k),
		AttributesToRetrieve: []string{"id"},
		ShowRankingScore:     true,
		MatchingStrategy:     meilisearch.Frequency,
		Filter:               townFilter(scope),
	})
	if err != nil {
		return nil, fmt.Errorf("meilisearch search: %w", err)
	}
	out := make([]ranked, 0, len(res.Hits))
	for _, h := range res.Hits {
		var r ranked
		if err := json.Unmarshal(h["id"], &r.id); err != nil {
			return nil, fmt.Errorf("meilisearch hit id: %w", err)
		}
		if raw, ok := h["_rankingScore"]; ok {
			_ = json.Unmarshal(raw, &r.score)
		}
		out = append(out, r)
	}
	return out, nil
}

// meiliSynonyms maps single-word colloquial German (Perso) to the concept's first German term,
// in the normalised form the lex attribute holds.
func (g *Glossary) meiliSynonyms() map[string][]string {
	syn := map[string][]string{}
	for _, c := range g.concepts {
		target := strings.Join(analysis.Lexemes(c.german[0], "de"), " ")
		for _, alt := range c.alt {
			ls := analysis.Lexemes(alt, "de")
			if len(ls) != 1 || ls[0] == target || target == "" {
				continue
			}
			syn[ls[0]] = append(syn[ls[0]], target)
		}
	}
	return syn
}

// townFilter restricts a search to the towns of scope.
func townFilter(scope []int) string {
	ids := make([]string, len(scope))
	for i, t := range scope {
		ids[i] = strconv.Itoa(t)
	}
	return "town_id IN [" + strings.Join(ids, ", ") + "]"
}
