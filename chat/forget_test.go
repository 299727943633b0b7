package chat

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// countRows runs a count query against the test database.
func countRows(t *testing.T, h *harness, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := h.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// ratingStats is the whole table of anonymous daily counts, as text.
func ratingStats(t *testing.T, h *harness) string {
	t.Helper()
	var s string
	if err := h.pool.QueryRow(context.Background(), `SELECT coalesce(string_agg(concat_ws('|', day, lang, kind, composer, value, n), ','
		ORDER BY day, lang, kind, composer, value), '') FROM rating_stats`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// leftOf counts what the database still holds of a conversation, table by table.
func leftOf(t *testing.T, h *harness, convID string) map[string]int {
	t.Helper()
	left := map[string]int{}
	for _, table := range []string{"messages", "answers", "ratings", "tickets"} {
		left[table] = countRows(t, h, "SELECT count(*) FROM "+table+" WHERE conversation_id = $1", convID)
	}
	left["conversations"] = countRows(t, h, "SELECT count(*) FROM conversations WHERE id = $1", convID)
	return left
}

// TestForgetErasesConversation: a citizen asks, rates with a comment and asks for a callback,
// then erases the conversation (GDPR Art. 17). Nothing of it is left but the anonymous daily
// counts; the connection goes on in a new conversation, and the old resume token is unknown.
func TestForgetErasesConversation(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	h := newHarness(t, ServerConfig{Metrics: m})
	c := mustDial(t, h, "")
	w := read(t, c)
	old := w["conversation_id"].(string)
	send(t, c, map[string]any{"type": "ask", "id": "c1", "text": "Was kostet ein Reisepass?"})
	a := read(t, c)
	if a["type"] != "answer" {
		t.Fatalf("answer %v", a)
	}
	send(t, c, map[string]any{"type": "rate", "answer_id": a["id"], "value": "down", "comment": "Bitte kürzer"})
	if r := read(t, c); r["type"] != "rated" {
		t.Fatalf("rated %v", r)
	}
	send(t, c, map[string]any{"type": "ticket", "kind": "callback", "phone": "0171 1234567", "name": "Erika", "consent": true})
	tk := read(t, c)
	if tk["type"] != "ticket_created" {
		t.Fatalf("ticket %v", tk)
	}
	before := leftOf(t, h, old)
	for table, want := range map[string]int{"conversations": 1, "messages": 2, "answers": 1, "ratings": 1, "tickets": 1} {
		if before[table] != want {
			t.Fatalf("before forget: %d rows in %s, want %d", before[table], table, want)
		}
	}
	stats := ratingStats(t, h)
	if stats == "" {
		t.Fatal("the rating was not counted")
	}

	send(t, c, map[string]any{"type": "forget"})
	if f := read(t, c); f["type"] != "forgotten" || len(f) != 1 {
		t.Fatalf("got %v, want forgotten", f)
	}
	// forgotten comes after the commit: nothing is left when the client reads it.
	for table, n := range leftOf(t, h, old) {
		if n != 0 {
			t.Errorf("after forget: %d rows of the old conversation in %s", n, table)
		}
	}
	if n := countRows(t, h, "SELECT count(*) FROM tickets WHERE number = $1", tk["number"]); n != 0 {
		t.Errorf("after forget: ticket %v still stored", tk["number"])
	}
	if got := ratingStats(t, h); got != stats {
		t.Errorf("rating counts changed by forget:\n%s\nwant\n%s", got, stats)
	}
	if got := testutil.ToFloat64(m.forgets); got != 1 {
		t.Errorf("forgets counted %v, want 1", got)
	}

	// A new conversation on the same connection, disclosed like one on connect.
	w2 := read(t, c)
	if w2["type"] != "welcome" || w2["resumed"] != false || w2["conversation_id"] == old || w2["token"] == w["token"] ||
		w2["conversation_id"] == "" || w2["token"] == "" {
		t.Fatalf("welcome after forget %v", w2)
	}
	for _, k := range []string{"title", "disclosure", "privacy", "privacy_url", "lang", "dir"} {
		if w2[k] != w[k] {
			t.Errorf("welcome after forget: %s = %v, want %v as on connect", k, w2[k], w[k])
		}
	}
	if n := countRows(t, h, "SELECT count(*) FROM conversations WHERE id = $1", w2["conversation_id"]); n != 1 {
		t.Fatalf("new conversation stored %d times", n)
	}
	// The new conversation counts its answers from the start.
	send(t, c, map[string]any{"type": "ask", "id": "c2", "text": "Wo melde ich meinen Hund an?"})
	if a2 := read(t, c); a2["id"] != "a1" {
		t.Errorf("first answer of the new conversation: %v", a2)
	}
	if n := countRows(t, h, "SELECT count(*) FROM messages WHERE conversation_id = $1", w2["conversation_id"]); n != 2 {
		t.Errorf("new conversation has %d messages, want 2", n)
	}

	// The old token is unknown now: a new conversation without history, as for any bad token.
	c2 := mustDial(t, h, "?resume="+w["token"].(string))
	if e := read(t, c2); e["type"] != "error" || e["code"] != CodeInvalidToken {
		t.Fatalf("old token: %v, want invalid_token", e)
	}
	w3 := read(t, c2)
	if w3["type"] != "welcome" || w3["resumed"] != false || w3["conversation_id"] == old || w3["conversation_id"] == w2["conversation_id"] {
		t.Fatalf("old token: %v, want a new conversation", w3)
	}
	// No history follows: the next message is the answer to the next question.
	send(t, c2, map[string]any{"type": "ask", "id": "c1", "text": "Was kostet ein Reisepass?"})
	if m := read(t, c2); m["type"] != "answer" || m["id"] != "a1" {
		t.Fatalf("after the old token: %v, want a first answer and no history", m)
	}

	// The new token resumes the new conversation, with its history only.
	c3 := mustDial(t, h, "?resume="+w2["token"].(string))
	if w4 := read(t, c3); w4["conversation_id"] != w2["conversation_id"] || w4["resumed"] != true {
		t.Fatalf("new token: %v", w4)
	}
	if hist := read(t, c3); len(hist["messages"].([]any)) != 2 {
		t.Errorf("history of the new conversation: %v", hist)
	}
}

// TestForgetBeforeAnything: forget right after connecting erases the empty conversation and
// starts another; the old token is unknown.
func TestForgetBeforeAnything(t *testing.T) {
	h := newHarness(t, ServerConfig{})
	c := mustDial(t, h, "?lang=en")
	w := read(t, c)
	send(t, c, map[string]any{"type": "forget"})
	if f := read(t, c); f["type"] != "forgotten" {
		t.Fatalf("got %v, want forgotten", f)
	}
	w2 := read(t, c)
	if w2["type"] != "welcome" || w2["conversation_id"] == w["conversation_id"] || w2["token"] == w["token"] || w2["lang"] != "en" {
		t.Fatalf("welcome after forget %v", w2)
	}
	if n := countRows(t, h, "SELECT count(*) FROM conversations WHERE id = $1", w["conversation_id"]); n != 0 {
		t.Errorf("the empty conversation is still stored")
	}
	// Twice in a row is fine too.
	send(t, c, map[string]any{"type": "forget"})
	if f := read(t, c); f["type"] != "forgotten" {
		t.Fatalf("second forget: %v", f)
	}
	if w3 := read(t, c); w3["type"] != "welcome" || w3["conversation_id"] == w2["conversation_id"] {
		t.Fatalf("welcome after the second forget %v", w3)
	}
	c2 := mustDial(t, h, "?resume="+w["token"].(string))
	if e := read(t, c2); e["code"] != CodeInvalidToken {
		t.Fatalf("old token: %v, want invalid_token", e)
	}
}

// TestForgetIsRateLimited: forget counts against the connection's limit like any message; a
// refused one erases nothing.
func TestForgetIsRateLimited(t *testing.T) {
	h := newHarness(t, ServerConfig{ConnRate: 0.001, ConnBurst: 1})
	c := mustDial(t, h, "")
	w := read(t, c)
	send(t, c, map[string]any{"type": "ask", "id": "c1", "text": "Was kostet ein Reisepass?"})
	read(t, c)
	send(t, c, map[string]any{"type": "forget"})
	if e := read(t, c); e["type"] != "error" || e["code"] != CodeRateLimited {
		t.Fatalf("got %v, want rate_limited", e)
	}
	if n := leftOf(t, h, w["conversation_id"].(string)); n["conversations"] != 1 || n["messages"] != 2 {
		t.Errorf("a refused forget erased %v", n)
	}
}
