package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/bot"
	"github.com/citybot-project/citybot/database/dbtest"
	"github.com/citybot-project/citybot/privacy"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// engineDouble answers every question in English, streaming its answer in one part, and keeps
// what it was asked.
type engineDouble struct{ asked []string }

func (e *engineDouble) ReplyStream(_ context.Context, text, _, _ string, onDelta func(string)) (bot.Reply, error) {
	e.asked = append(e.asked, text)
	onDelta("Hello")
	return bot.Reply{Kind: "answer", Text: "Hello", Lang: "en", Composer: "extractive"}, nil
}

func (e *engineDouble) PersonRequested(lang string, agentsOnline bool) bot.Reply {
	return bot.Reply{Kind: "handoff", Reason: bot.ReasonUserRequest, Text: "A person", Lang: lang, Composer: "extractive"}
}

func (e *engineDouble) NoAgent(lang string) bot.Reply {
	return bot.Reply{Kind: "handoff", Reason: bot.ReasonNoAgent, Text: "Nobody", Lang: lang, Composer: "extractive"}
}

// protocolDouble writes a turn's messages as maps and keeps what was streamed.
type protocolDouble struct{ streamed []string }

func (p *protocolDouble) Asked(id, text, lang string) any {
	return map[string]string{"type": "ask", "id": id, "text": text, "lang": lang}
}

func (p *protocolDouble) Replied(id, replyTo string, r bot.Reply) any {
	return map[string]any{"type": r.Kind, "id": id, "reply_to": replyTo, "text": r.Text, "lang": r.Lang, "sources": r.Sources}
}

func (p *protocolDouble) Streamed(id, part string) { p.streamed = append(p.streamed, id+":"+part) }

// fixture is a Service over a fresh database with the doubles, and a conversation in German.
type fixture struct {
	svc  *Service
	st   *Store
	pool *pgxpool.Pool
	eng  *engineDouble
	conv Conversation
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{pool: dbtest.Pool(t), eng: &engineDouble{}}
	now := func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }
	f.st = NewStore(f.pool, dbtest.Town(t, f.pool, "lindenbrueck"), now)
	f.svc = NewService(f.st, f.eng, privacy.NewRedactor(now))
	var err error
	if f.conv, _, err = f.st.Create(context.Background(), "de"); err != nil {
		t.Fatal(err)
	}
	return f
}

// A turn redacts what the citizen typed before the engine or the store see it, stores the
// question and the reply as the protocol writes them, and moves the conversation on.
func TestTurnRedactsAnswersAndStores(t *testing.T) {
	f := newFixture(t)
	svc, st, pool, eng, conv := f.svc, f.st, f.pool, f.eng, &f.conv
	ctx := context.Background()
	p := &protocolDouble{}
	x, err := svc.Turn(ctx, conv, "c1", "Was kostet ein Reisepass? Meine Mail: max@example.org", "", p)
	if err != nil {
		t.Fatal(err)
	}
	if len(eng.asked) != 1 || strings.Contains(eng.asked[0], "max@example.org") || !strings.Contains(eng.asked[0], "[email]") {
		t.Errorf("the engine was asked %q", eng.asked)
	}
	if conv.Answers != 1 || conv.Lang != "en" {
		t.Errorf("conversation after the turn: %+v, want one answer, held in English", conv)
	}
	if strings.Join(p.streamed, " ") != "a1:Hello" {
		t.Errorf("streamed %v", p.streamed)
	}
	msg, _ := x.Message.(map[string]any)
	if x.Reply.Kind != "answer" || msg["id"] != "a1" || msg["reply_to"] != "c1" {
		t.Errorf("exchange %+v", x)
	}
	if sources, _ := msg["sources"].([]bot.Source); sources == nil {
		t.Error("a reply without sources is sent with a null list")
	}

	x, err = svc.HandOff(ctx, conv, false, p)
	if err != nil {
		t.Fatal(err)
	}
	if msg, _ := x.Message.(map[string]any); msg["id"] != "a2" || msg["reply_to"] != "" || msg["lang"] != "en" {
		t.Errorf("handoff %v", x.Message)
	}

	hist, err := st.History(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	for _, m := range hist {
		var v map[string]any
		if err := json.Unmarshal(m, &v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if len(got) != 3 || got[0]["type"] != "ask" || got[1]["id"] != "a1" || got[2]["id"] != "a2" {
		t.Fatalf("history %v", got)
	}
	if text := got[0]["text"].(string); strings.Contains(text, "max@example.org") || got[0]["lang"] != "en" {
		t.Errorf("question stored as %v", got[0])
	}
	var question, lang string
	if err := pool.QueryRow(ctx, `SELECT a.question, c.lang FROM answers a JOIN conversations c ON c.id = a.conversation_id
		WHERE a.conversation_id = $1 AND a.answer_id = 'a1'`, conv.ID).Scan(&question, &lang); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(question, "max@example.org") || lang != "en" {
		t.Errorf("answer stored for %q in a conversation held in %s", question, lang)
	}
}

// A rating's comment and a ticket's note are redacted before they are stored.
func TestRatingsAndTicketsAreRedacted(t *testing.T) {
	f := newFixture(t)
	svc, pool, conv := f.svc, f.pool, &f.conv
	ctx := context.Background()
	if _, err := svc.Turn(ctx, conv, "c1", "Was kostet ein Reisepass?", "", &protocolDouble{}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Rate(ctx, conv.ID, "a9", "up", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("rating an unknown answer: %v, want ErrNotFound", err)
	}
	if err := svc.Rate(ctx, conv.ID, "a1", "down", "Rufen Sie mich an: 0171 1234567"); err != nil {
		t.Fatal(err)
	}
	number, err := svc.Ticket(ctx, conv.ID, Ticket{Kind: "callback", Phone: "0171 1234567", Note: "Meine Mail: max@example.org", Lang: "de"})
	if err != nil || number == "" {
		t.Fatalf("ticket %q: %v", number, err)
	}
	var comment, note, phone string
	if err := pool.QueryRow(ctx, `SELECT r.comment, t.note, t.phone FROM ratings r, tickets t
		WHERE r.conversation_id = $1 AND t.number = $2`, conv.ID, number).Scan(&comment, &note, &phone); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(comment, "1234567") || strings.Contains(note, "max@example.org") {
		t.Errorf("stored comment %q, note %q", comment, note)
	}
	// The contact data the citizen gave for the callback, with consent, is kept as given.
	if phone != "0171 1234567" {
		t.Errorf("stored phone %q", phone)
	}
}
