package knowledge

import (
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
	if len(c.entries) >= maxCachedPages {
		c.entries = map[string]pageEntry{}
	}
	c.entries[url] = pageEntry{chunks: chunks, at: c.now()}
}

func (c *pageCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = map[string]pageEntry{}
}

// chunkCache keeps what a search shows of a chunk: its text and heading path, its page's
// address, title, language and alternates. A chunk never changes: a changed page gets new chunks
// and a retired page loses its own, so an entry is right for as long as searches find its chunk.
// It spares every search two queries (a fifth of an answer's time on the sample site).
type chunkCache struct {
	mu      sync.RWMutex
	entries map[int64]chunkInfo
}

type chunkInfo struct {
	ord        int
	heads      []string
	body       string
	url, title string
	lang       string
	alternates map[string]string
}

// maxCachedChunks bounds the cache (about 1 KiB a chunk); it is emptied when full.
const maxCachedChunks = 50000

// get returns the cached chunks of ids and the ids it does not have.
func (c *chunkCache) get(ids []int64) (map[int64]chunkInfo, []int64) {
	found := make(map[int64]chunkInfo, len(ids))
	var missing []int64
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, id := range ids {
		if ci, ok := c.entries[id]; ok {
			found[id] = ci
		} else {
			missing = append(missing, id)
		}
	}
	return found, missing
}

func (c *chunkCache) put(infos map[int64]chunkInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries)+len(infos) > maxCachedChunks {
		c.entries = make(map[int64]chunkInfo, len(infos))
	}
	for id, ci := range infos {
		c.entries[id] = ci
	}
}
