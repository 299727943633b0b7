package knowledge

import (
	"testing"
	"time"
)

// TestPageCacheDropsExpiredEntries: an entry is served within its ttl, not after, and the
// entries of pages no longer asked for are dropped by the next put a ttl later, so that the
// cache of a town holds its last minute's pages, not every page since it started.
func TestPageCacheDropsExpiredEntries(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	c := newPageCache(time.Minute, func() time.Time { return now })
	for _, u := range []string{"a", "b", "c"} {
		c.put(u, []ChunkHit{{ID: 1, Text: u}})
	}
	if got, ok := c.get("b"); !ok || got[0].Text != "b" {
		t.Fatalf("within the ttl: %v %v", got, ok)
	}
	now = now.Add(2 * time.Minute)
	if _, ok := c.get("b"); ok {
		t.Error("an expired entry was served")
	}
	c.put("d", nil)
	if len(c.entries) != 1 {
		t.Errorf("%d entries after a put a ttl later, want only the new one", len(c.entries))
	}
}
