package knowledge

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// pageCache keeps the chunks of recently answered-from pages for a short time: every answer reads
// its page whole, and the same pages answer most questions. An ingest in this process clears it;
// one in another process shows after ttl.
type pageCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	now     func() time.Time
	entries map[string]pageEntry
	swept   time.Time // when expired entries were last dropped
}

type pageEntry struct {
	chunks []ChunkHit
	at     time.Time
}

// maxCachedPages bounds the cache; it is emptied when full.
const maxCachedPages = 2000

func newPageCache(ttl time.Duration, now func() time.Time) *pageCache {
	return &pageCache{ttl: ttl, now: now, entries: map[string]pageEntry{}}
}

func (c *pageCache) get(url string) ([]ChunkHit, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[url]
	if !ok || c.now().Sub(e.at) > c.ttl {
		return nil, false
	}
	return e.chunks, true
}

func (c *pageCache) put(url string, chunks []ChunkHit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.entries) >= maxCachedPages {
		c.entries = map[string]pageEntry{}
	}
	// Expired entries are dropped once a ttl, so that a town's cache holds the pages of its
	// last minute's answers, not of every answer since it started.
	if now.Sub(c.swept) > c.ttl {
		c.swept = now
		for u, e := range c.entries {
			if now.Sub(e.at) > c.ttl {
				delete(c.entries, u)
			}
		}
	}
	c.entries[url] = pageEntry{chunks: chunks, at: now}
}

func (c *pageCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = map[string]pageEntry{}
}

// chunkCache keeps what a search shows of a chunk: its heading path, its page's address, title,
// language and alternates, and the text of chunks that were shown. A chunk never changes: a
// changed page gets new chunks and a retired page loses its own, so an entry is right for as
// long as searches find its chunk. It spares a search its two queries after the first (a fifth
// of an answer's time on the sample site).
type chunkCache struct {
	meta   byChunk[chunkInfo]
	bodies byChunk[string]
}

type chunkInfo struct {
	town       int // whose page: the town's own, or a linked collection's
	ord        int
	heads      []string
	url, title string
	docTitle   string
	// titleTerms are the title field's lexemes, analysed once: folding is a search's largest
	// cost in Go.
	titleTerms map[string]bool
	lang       string
	alternates map[string]string
}

// maxCachedChunks bounds each of the cache's maps; a full map is emptied. The texts of the chunks
// shown (about 1 KiB each) are the larger part.
const maxCachedChunks = 50000

// byChunk is a bounded map by chunk id, safe for concurrent use.
type byChunk[V any] struct {
	mu sync.RWMutex
	m  map[int64]V
}

// get returns the cached values of ids and the ids it does not have.
func (c *byChunk[V]) get(ids []int64) (map[int64]V, []int64) {
	found := make(map[int64]V, len(ids))
	var missing []int64
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, id := range ids {
		if v, ok := c.m[id]; ok {
			found[id] = v
		} else {
			missing = append(missing, id)
		}
	}
	return found, missing
}

func (c *byChunk[V]) put(vs map[int64]V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m)+len(vs) > maxCachedChunks {
		c.m = make(map[int64]V, len(vs))
	}
	for id, v := range vs {
		c.m[id] = v
	}
}

// maxWarmChunks: Warm reads every page's chunks into the page cache only on sites up to this
// size (a city's site has a few thousand); larger corpora warm only the chunks' facts.
const maxWarmChunks = 20000

// Warm fills the search caches before the first questions, so that the citizens right after a
// restart are not the ones who wait for them.
func (ix *Index) Warm(ctx context.Context) error {
	if _, err := ix.vocabulary(ctx); err != nil {
		return fmt.Errorf("warm vocabulary: %w", err)
	}
	if _, err := ix.statedNumbers(ctx); err != nil {
		return fmt.Errorf("warm stated numbers: %w", err)
	}
	rows, err := ix.query(ctx, `SELECT c.id, p.town_id, c.ord, c.heading_path, p.url, p.title, p.doc_title, p.lang, p.alternates
		FROM chunks c JOIN pages p ON p.town_id = c.town_id AND p.id = c.page_id
		WHERE c.town_id = ANY($2) AND p.active ORDER BY c.id DESC LIMIT $1`, maxCachedChunks, ix.scope.Search)
	if err != nil {
		return fmt.Errorf("warm chunk cache: %w", err)
	}
	infos := map[int64]chunkInfo{}
	titles := titleSets{}
	for rows.Next() {
		var id int64
		var ci chunkInfo
		if err := rows.Scan(&id, &ci.town, &ci.ord, &ci.heads, &ci.url, &ci.title, &ci.docTitle, &ci.lang, &ci.alternates); err != nil {
			rows.Close()
			return fmt.Errorf("warm chunk cache: %w", err)
		}
		ci.titleTerms = titles.of(ci)
		infos[id] = ci
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("warm chunk cache: %w", err)
	}
	ix.chunkInfos.meta.put(infos)
	if len(infos) > maxWarmChunks {
		return nil
	}
	rows, err = ix.query(ctx, `SELECT p.url, c.id, c.heading_path, c.body FROM chunks c JOIN pages p ON p.town_id = c.town_id AND p.id = c.page_id
		WHERE c.town_id = ANY($1) AND p.active ORDER BY p.url, c.ord`, ix.scope.Search)
	if err != nil {
		return fmt.Errorf("warm page cache: %w", err)
	}
	defer rows.Close()
	pages := map[string][]ChunkHit{}
	for rows.Next() {
		var url string
		var c ChunkHit
		if err := rows.Scan(&url, &c.ID, &c.Headings, &c.Text); err != nil {
			return fmt.Errorf("warm page cache: %w", err)
		}
		pages[url] = append(pages[url], c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("warm page cache: %w", err)
	}
	for url, chunks := range pages {
		ix.pageChunks.put(url, chunks)
	}
	return nil
}
