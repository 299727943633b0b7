package knowledge

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// flakyEmbedder is the offline embedder that can be switched off, as a model endpoint that
// went down, and counts the calls that reach it.
type flakyEmbedder struct {
	*HashEmbedder
	down  atomic.Bool
	calls atomic.Int64
}

func (e *flakyEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	e.calls.Add(1)
	if e.down.Load() {
		return nil, errors.New("connection refused")
	}
	return e.HashEmbedder.Embed(ctx, texts)
}

// TestSearchGoesOnWithoutItsDependencies: with the embeddings model down, a question is answered
// on the lexical evidence, and after three failures the model is not asked until its breaker's
// cooldown; with Meilisearch down, the postings in PostgreSQL answer. Each time the fallback is
// told (the metrics count it).
func TestSearchGoesOnWithoutItsDependencies(t *testing.T) {
	ctx := context.Background()
	double, srv := newMeiliDouble(t, "k")
	ix := newMeiliIndex(t, srv.URL, "k", "chunks")
	emb := &flakyEmbedder{HashEmbedder: NewHashEmbedder(0)}
	ix.embedder = emb
	var mu sync.Mutex
	fallbacks := map[string]int{}
	ix.OnFallback(func(dep string) { mu.Lock(); fallbacks[dep]++; mu.Unlock() })
	dir := t.TempDir()
	// Enough pages that a word on one of them is not too common to count (commonDF).
	writeFiles(t, dir, map[string]string{"hund.html": page("Hundesteuer", "<h2>Kosten</h2><p>Der erste Hund kostet 96 Euro im Jahr.</p>"),
		"baum.html":  page("Baumfällung", "<p>Für große Bäume brauchen Sie eine Genehmigung.</p>"),
		"pass.html":  page("Reisepass", "<p>Einen Reisepass beantragen Sie im Bürgerbüro.</p>"),
		"bad.html":   page("Freibad", "<p>Das Freibad öffnet im Mai.</p>"),
		"wahl.html":  page("Briefwahl", "<p>Briefwahlunterlagen gibt es online.</p>"),
		"muell.html": page("Müllabfuhr", "<p>Die Tonne wird alle zwei Wochen geleert.</p>")})
	if _, err := ix.Ingest(ctx, DirSource{Dir: dir, BaseURL: "https://stadt.example"}, 1, nil); err != nil {
		t.Fatal(err)
	}
	search := func(what string) {
		t.Helper()
		hits, err := ix.Search(ctx, Query{Text: "Was kostet die Hundesteuer", Limit: 3})
		if err != nil || len(hits) == 0 || hits[0].URL != "https://stadt.example/hund" {
			t.Fatalf("%s: %+v %v", what, hits, err)
		}
	}
	search("all up")
	emb.calls.Store(0)
	before := double.callsMatching("POST /indexes/chunks/search")
	emb.down.Store(true)
	double.failSearch = true
	for i := range 5 {
		search("dependencies down, question " + string(rune('1'+i)))
	}
	if n, m := emb.calls.Load(), double.callsMatching("POST /indexes/chunks/search")-before; n != 3 || m != 3 {
		t.Errorf("asked while down: the model %d times, Meilisearch %d times; want three failures each (no retries), then nothing", n, m)
	}
	if fallbacks["embeddings"] != 5 || fallbacks["meilisearch"] != 5 {
		t.Errorf("fallbacks told: %v, want 5 each", fallbacks)
	}
}
