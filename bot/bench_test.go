package bot

import (
	"context"
	"testing"

	"github.com/citybot-project/citybot/i18n"
	"github.com/citybot-project/citybot/internal/testsite"
)

// BenchmarkReply is the engine's work for one question (no storage): retrieval, language
// detection, composing.
func BenchmarkReply(b *testing.B) {
	_, ix := testsite.Index(b)
	cat, _ := i18n.Load(nil)
	eng := NewEngine(ix, ix, cat, City{Name: "Musterstadt"}, EngineConfig{MinConfidence: 0.3}, quiet)
	qs := []string{"Was kostet ein Reisepass?", "How do I register my address?", "Sperrmüll abholen lassen, was kostet das?",
		"Kimlik kartı ne kadar?", "Wie lange dauert ein Führerschein-Umtausch?"}
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := eng.Reply(ctx, qs[i%len(qs)], "de", ""); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
