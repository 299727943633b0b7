package review

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/audit"
	"github.com/citybot-project/citybot/conversation"
	"github.com/citybot-project/citybot/database/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

type answer struct {
	id, question, kind, reason, text, url, lang, composer, rating, comment string
}

// seed stores a conversation of town with its answers and ratings, as the chat would.
func seed(t *testing.T, pool *pgxpool.Pool, town int, answers ...answer) string {
	t.Helper()
	ctx := context.Background()
	conv, _, err := conversation.NewStore(pool, town, time.Now).Create(ctx, "de")
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range answers {
		sources, _ := json.Marshal([]map[string]string{{"title": "Seite", "url": a.url}})
		if _, err := pool.Exec(ctx, `INSERT INTO answers (town_id, conversation_id, answer_id, question, kind, reason, text, sources,
			confidence, lang, composer, created_at) VALUES ($1, $2, $3, $4, $5, nullif($6, ''), $7, $8, 0.5, $9, $10, now() + $11 * interval '1 second')`,
			town, conv.ID, a.id, a.question, a.kind, a.reason, a.text, sources, a.lang, a.composer, i); err != nil {
			t.Fatal(err)
		}
		if a.rating != "" {
			if _, err := pool.Exec(ctx, `INSERT INTO ratings (town_id, conversation_id, answer_id, value, comment) VALUES ($1, $2, $3, $4, $5)`,
				town, conv.ID, a.id, a.rating, a.comment); err != nil {
				t.Fatal(err)
			}
		}
	}
	return conv.ID
}

// TestReviewRatedAnswers: the filters pick what they say, a town sees only its own, the
// transcript holds the whole conversation, a verdict is kept and audited, bad verdicts and
// other towns' answers are refused, and an export (CSV, JSON) holds what the filter picked,
// defused against formulas, and is audited.
func TestReviewRatedAnswers(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	lb, ef := dbtest.Town(t, pool, "lindenbrueck"), dbtest.Town(t, pool, "eichenfeld")
	conv := seed(t, pool, lb,
		answer{"a1", "Was kostet die Hundesteuer?", "answer", "", "96 Euro im Jahr.", "https://www.lindenbrueck.example/hundesteuer", "de", "extractive", "up", ""},
		answer{"a2", "Und für den zweiten Hund?", "answer", "", "96 Euro im Jahr.", "https://www.lindenbrueck.example/hundesteuer", "de", "extractive", "down", "=HYPERLINK(\"x\") falsch"},
		answer{"a3", "Danke", "answer", "", "Gern.", "https://www.lindenbrueck.example/", "de", "extractive", "", ""})
	seed(t, pool, lb, answer{"a1", "How do I register?", "handoff", "low_confidence", "A person helps.", "https://www.lindenbrueck.example/anmeldung", "en", "extractive", "down", ""})
	seed(t, pool, ef, answer{"a1", "Hundesteuer?", "answer", "", "144 Euro.", "https://www.eichenfeld.example/hundesteuer", "de", "extractive", "down", "falsch"})

	count := func(f Filter) int {
		items, err := List(ctx, pool, lb, f, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(items)
	}
	for name, c := range map[string]struct {
		f    Filter
		want int
	}{
		"all rated": {Filter{}, 3}, "down": {Filter{Rating: "down"}, 2}, "with a comment": {Filter{WithComment: true}, 1},
		"English": {Filter{Lang: "en"}, 1}, "low confidence": {Filter{Reason: "low_confidence"}, 1}, "llm": {Filter{Composer: "llm"}, 0},
		"cited page": {Filter{Page: "/hundesteuer"}, 2}, "from tomorrow": {Filter{From: time.Now().Add(24 * time.Hour)}, 0},
		"until tomorrow": {Filter{To: time.Now().Add(24 * time.Hour)}, 3},
	} {
		if got := count(c.f); got != c.want {
			t.Errorf("%s: %d, want %d", name, got, c.want)
		}
	}
	if items, _ := List(ctx, pool, ef, Filter{}, 100); len(items) != 1 || items[0].Text != "144 Euro." {
		t.Errorf("eichenfeld's: %+v", items)
	}
	tr, err := Transcript(ctx, pool, lb, conv)
	if err != nil || len(tr) != 3 || tr[0].AnswerID != "a1" || tr[2].Rating != "" || tr[1].Sources[0].URL != "https://www.lindenbrueck.example/hundesteuer" {
		t.Fatalf("transcript: %+v %v", tr, err)
	}
	if tr, _ := Transcript(ctx, pool, ef, conv); len(tr) != 0 {
		t.Errorf("lindenbrueck's conversation seen through eichenfeld: %+v", tr)
	}

	if err := SetVerdict(ctx, pool, lb, "rita@x.example", conv, "a2", "wrong_passage", "Der zweite Hund kostet 144 Euro."); err != nil {
		t.Fatal(err)
	}
	if err := SetVerdict(ctx, pool, lb, "rita@x.example", conv, "a2", "content_missing", "Die Seite nennt den zweiten Hund nicht."); err != nil {
		t.Fatal(err)
	}
	if err := SetVerdict(ctx, pool, lb, "rita@x.example", conv, "a2", "falsch", ""); !errors.Is(err, ErrBadVerdict) {
		t.Errorf("a bad verdict: %v", err)
	}
	if err := SetVerdict(ctx, pool, ef, "rita@x.example", conv, "a2", "correct", ""); !errors.Is(err, ErrNoAnswer) {
		t.Errorf("lindenbrueck's answer through eichenfeld: %v", err)
	}
	items, _ := List(ctx, pool, lb, Filter{WithComment: true}, 100)
	if items[0].Verdict != "content_missing" || items[0].Note != "Die Seite nennt den zweiten Hund nicht." {
		t.Errorf("verdict: %+v", items[0])
	}

	var csvOut, jsonOut bytes.Buffer
	if err := Export(ctx, pool, lb, "rita@x.example", Filter{Rating: "down"}, "csv", &csvOut); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&csvOut).ReadAll()
	if err != nil || len(records) != 3 || records[0][8] != "question" {
		t.Fatalf("csv: %v %v", records, err)
	}
	for _, r := range records[1:] {
		if strings.HasPrefix(r[12], "=") {
			t.Errorf("a comment starts a formula: %q", r[12])
		}
	}
	if err := Export(ctx, pool, lb, "rita@x.example", Filter{}, "json", &jsonOut); err != nil {
		t.Fatal(err)
	}
	var exported []Item
	if err := json.Unmarshal(jsonOut.Bytes(), &exported); err != nil || len(exported) != 3 {
		t.Errorf("json: %d items, %v", len(exported), err)
	}
	if err := Export(ctx, pool, lb, "rita@x.example", Filter{}, "xlsx", &jsonOut); err == nil {
		t.Error("an unknown format was exported")
	}
	entries, _ := audit.List(ctx, pool, lb, 10)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, " ") != "review.export review.export review.verdict review.verdict" {
		t.Errorf("audit: %v", actions)
	}
}
