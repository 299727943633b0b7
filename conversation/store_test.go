package conversation

import (
	"context"
	"testing"
	"time"

	"github.com/citybot-project/citybot/database/dbtest"
)

// BenchmarkStoreExchange is the storage of one question and its answer.
func BenchmarkStoreExchange(b *testing.B) {
	pool := dbtest.Pool(b)
	st := NewStore(pool, dbtest.Town(b, pool, "lindenbrueck"), time.Now)
	ctx := context.Background()
	conv, _, err := st.Create(ctx, "de")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		id := "a" + time.Now().Format("150405.000000000")
		if err := st.saveExchange(ctx, conv.ID, "de", map[string]string{"type": "ask", "text": "Was kostet ein Reisepass?"},
			storedAnswer{ID: id, Question: "q", Kind: "answer", Text: "t", Lang: "de", Composer: "extractive"},
			map[string]string{"type": "answer", "text": "..."}); err != nil {
			b.Fatal(err)
		}
	}
}
