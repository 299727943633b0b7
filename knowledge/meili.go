package knowledge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/meilisearch/meilisearch-go"

	"github.com/citybot-project/citybot/analysis"
)

// Meili keeps a Meilisearch index of the chunks in step with the database, and serves the
// lexical side of retrieval when MEILI_URL is set. The database stays the store of record: each
// page remembers which content hash was last pushed, so a failed push is retried on the next ingest.
type Meili struct {
	url   string
	name  string
	index meilisearch.IndexManager
	svc   meilisearch.ServiceManager
	// searchIndex answers questions: no retries and a short timeout, since a citizen waits and
	// a failed search falls back to PostgreSQL. Writes (index) keep the client's retries.
	searchIndex meilisearch.IndexManager
	now         func() time.Time

	// With a search key (UseTenantTokens), every search carries a tenant token signed with it
	// whose search rules hold the town's filter: Meilisearch applies it whatever the request
	// says, a second wall as row-level security is in PostgreSQL.
	searchKey, searchKeyUID string
	mu                      sync.Mutex
	tokens                  map[string]tenantSearcher // by filter
}

// tenantSearcher is a client that searches with one town scope's tenant token.
type tenantSearcher struct {
	index   meilisearch.IndexManager
	expires time.Time
}

// searchOptions make a client for questions: one try, at most meiliSearchTimeout.
func searchOptions() []meilisearch.Option {
	return []meilisearch.Option{meilisearch.DisableRetries(), meilisearch.WithCustomClient(&http.Client{Timeout: meiliSearchTimeout})}
}

// meiliSearchTimeout bounds a question's wait for Meilisearch; PostgreSQL answers instead.
const meiliSearchTimeout = 3 * time.Second

// tenantTokenLife is how long a tenant token is valid; it is renewed a tenth of that before.
const tenantTokenLife = time.Hour

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
	m := &Meili{url: url, name: indexName, svc: svc, index: svc.Index(indexName), now: time.Now,
		searchIndex: meilisearch.New(url, append(searchOptions(), meilisearch.WithAPIKey(apiKey))...).Index(indexName)}
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

// UseTenantTokens makes every search carry a tenant token signed with searchKey, a Meilisearch
// API key allowed to search this index, whose search rules restrict the index to the searching
// town's scope. The key is looked up with the admin key (its uid signs the tokens).
func (m *Meili) UseTenantTokens(ctx context.Context, searchKey string) error {
	k, err := m.svc.GetKeyWithContext(ctx, searchKey)
	if err != nil {
		return fmt.Errorf("meilisearch search key: %w", err)
	}
	if !slices.Contains(k.Actions, "search") && !slices.Contains(k.Actions, "*") {
		return fmt.Errorf("meilisearch search key %q may not search (its actions: %s)", k.Name, strings.Join(k.Actions, ", "))
	}
	if !slices.Contains(k.Indexes, m.name) && !slices.Contains(k.Indexes, "*") {
		return fmt.Errorf("meilisearch search key %q may not search index %s (its indexes: %s)", k.Name, m.name, strings.Join(k.Indexes, ", "))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.searchKey, m.searchKeyUID, m.tokens = searchKey, k.UID, map[string]tenantSearcher{}
	return nil
}

// searcher is the index to search scope with: with tenant tokens, a client whose token holds
// the scope's filter, made anew before the token expires.
func (m *Meili) searcher(filter string) (meilisearch.IndexManager, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.searchKey == "" {
		return m.searchIndex, nil
	}
	now := m.now()
	if s, ok := m.tokens[filter]; ok && now.Before(s.expires.Add(-tenantTokenLife/10)) {
		return s.index, nil
	}
	expires := now.Add(tenantTokenLife)
	token, err := m.svc.GenerateTenantToken(m.searchKeyUID, map[string]any{m.name: map[string]any{"filter": filter}},
		&meilisearch.TenantTokenOptions{APIKey: m.searchKey, ExpiresAt: expires})
	if err != nil {
		return nil, fmt.Errorf("meilisearch tenant token: %w", err)
	}
	s := tenantSearcher{index: meilisearch.New(m.url, append(searchOptions(), meilisearch.WithAPIKey(token))...).Index(m.name), expires: expires}
	m.tokens[filter] = s
	return s.index, nil
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
	filter := townFilter(scope)
	index, err := m.searcher(filter)
	if err != nil {
		return nil, err
	}
	res, err := index.SearchWithContext(ctx, strings.Join(terms, " "), &meilisearch.SearchRequest{
		Limit:                int64(k),
		AttributesToRetrieve: []string{"id"},
		ShowRankingScore:     true,
		MatchingStrategy:     meilisearch.Frequency,
		Filter:               filter,
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
