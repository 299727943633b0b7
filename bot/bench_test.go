package bot

import (
	"context"
	"testing"
	"time"

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

// BenchmarkStoreExchange is the storage of one question and its answer.
func BenchmarkStoreExchange(b *testing.B) {
	pool, _ := testsite.Index(b)
	st := NewStore(pool, time.Now)
	ctx := context.Background()
	conv, _, err := st.Create(ctx, "de")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		id := "a" + time.Now().Format("150405.000000000")
		if err := st.SaveExchange(ctx, conv.ID, "de", map[string]string{"type": "ask", "text": "Was kostet ein Reisepass?"},
			StoredAnswer{ID: id, Question: "q", Kind: "answer", Text: "t", Lang: "de", Composer: "extractive"},
			map[string]string{"type": "answer", "text": "..."}); err != nil {
			b.Fatal(err)
		}
	}
}
