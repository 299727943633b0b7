package knowledge

import (
	"context"
	"path/filepath"
	"testing"
)

// The parts of a search on the sample site: where an answer's time goes.
func BenchmarkSearchParts(b *testing.B) {
	t := &testing.T{}
	ix := newTestIndex(t, nil)
	ctx := context.Background()
	src := DirSource{Dir: filepath.Join("..", "sample", "musterstadt"), BaseURL: "https://www.musterstadt.example"}
	if _, err := ix.Ingest(ctx, src, 4, nil); err != nil {
		b.Fatal(err)
	}
	qs := []string{"Was kostet ein Reisepass?", "How do I register my address?", "Sperrmüll abholen lassen, was kostet das?",
		"Kimlik kartı ne kadar?", "Wie lange dauert ein Führerschein-Umtausch?"}
	as := make([]Analysis, len(qs))
	for i, q := range qs {
		as[i] = ix.Analyze(q, "")
	}
	b.Run("analyze", func(b *testing.B) {
		i := 0
		for b.Loop() {
			ix.Analyze(qs[i%len(qs)], "de")
			i++
		}
	})
	b.Run("lexical", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := ix.lexical(ctx, &as[i%len(as)], as[i%len(as)].units); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("vector", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := ix.vector(ctx, as[i%len(as)].Expanded, false); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("search", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := ix.Search(ctx, Query{Text: qs[i%len(qs)], Limit: 5, Analysis: &as[i%len(as)]}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
