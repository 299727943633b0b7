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
