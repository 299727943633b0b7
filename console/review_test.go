package console

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/citybot-project/citybot/auth"
	"github.com/citybot-project/citybot/conversation"
	"github.com/citybot-project/citybot/database/dbtest"
	"github.com/citybot-project/citybot/review"
)

// TestReviewPages: a reviewer filters the rated answers, opens a conversation, gives a verdict
// (with the form's token) and exports the filtered list; an agent of the town may not.
func TestReviewPages(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	lb := dbtest.Town(t, pool, "lindenbrueck")
	staff(t, pool, "rita@x.example", "rita@x.example", lb, auth.RoleReviewer)
	staff(t, pool, "erika@x.example", "erika@x.example", lb, auth.RoleAgent)
	conv, _, err := conversation.NewStore(pool, lb, time.Now).Create(ctx, "de")
	if err != nil {
		t.Fatal(err)
	}
	sources, _ := json.Marshal([]map[string]string{{"title": "Hundesteuer", "url": "https://www.lindenbrueck.example/hundesteuer"}})
	for i, a := range [][3]string{{"a1", "Was kostet die Hundesteuer?", "up"}, {"a2", "Und der zweite Hund?", "down"}} {
		if _, err := pool.Exec(ctx, `INSERT INTO answers (town_id, conversation_id, answer_id, question, kind, text, sources, confidence, lang, composer, created_at)
			VALUES ($1, $2, $3, $4, 'answer', '96 Euro im Jahr.', $5, 0.6, 'de', 'extractive', now() + $6 * interval '1 second')`, lb, conv.ID, a[0], a[1], sources, i); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO ratings (town_id, conversation_id, answer_id, value, comment) VALUES ($1, $2, $3, $4, '')`, lb, conv.ID, a[0], a[2]); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(New(pool, slog.New(slog.DiscardHandler), time.Now, Options{}))
	t.Cleanup(srv.Close)
	signIn := func(email string) browser { return signIn(t, srv.URL, email) }
	rita := signIn("rita@x.example")
	resp, page := rita.do("GET", "/console/t/lindenbrueck/review", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "Was kostet die Hundesteuer?") || !strings.Contains(page, "Und der zweite Hund?") {
		t.Fatalf("review: %d %s", resp.StatusCode, page)
	}
	if _, page := rita.do("GET", "/console/t/lindenbrueck/review?rating=down", nil, nil); strings.Contains(page, "Was kostet die Hundesteuer?") ||
		!strings.Contains(page, "Und der zweite Hund?") {
		t.Errorf("only the down-rated: %s", page)
	}
	if resp, page := rita.do("GET", "/console/t/lindenbrueck/review/"+conv.ID, nil, nil); resp.StatusCode != 200 || !strings.Contains(page, "<h2>Und der zweite Hund?</h2>") {
		t.Errorf("transcript: %d %s", resp.StatusCode, page)
	}
	if resp, _ := rita.do("GET", "/console/t/lindenbrueck/review/00000000-0000-0000-0000-000000000000", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown conversation: %d", resp.StatusCode)
	}
	verdict := url.Values{"conversation": {conv.ID}, "answer": {"a2"}, "verdict": {"content_missing"}, "note": {"Zweiter Hund fehlt auf der Seite."}}
	if resp, _ := rita.do("POST", "/console/t/lindenbrueck/review/verdict", verdict, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a verdict without the form's token: %d", resp.StatusCode)
	}
	verdict.Set("csrf", csrfField.FindStringSubmatch(page)[1])
	verdict.Set("filter", "rating=down&lang=de")
	if resp, _ := rita.do("POST", "/console/t/lindenbrueck/review/verdict", verdict, nil); resp.StatusCode != http.StatusSeeOther ||
		resp.Header.Get("Location") != "/console/t/lindenbrueck/review?lang=de&rating=down" {
		t.Errorf("a verdict: %d, back to %q with the filter", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := rita.do("GET", "/console/t/lindenbrueck/review/export?format=csv&rating=down", nil, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") ||
		!strings.Contains(body, "content_missing,Zweiter Hund fehlt auf der Seite.") || strings.Contains(body, "Was kostet") {
		t.Errorf("export: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if resp, _ := rita.do("GET", "/console/t/lindenbrueck/review/export?format=xlsx", nil, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown format: %d", resp.StatusCode)
	}
	if resp, _ := signIn("erika@x.example").do("GET", "/console/t/lindenbrueck/review", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an agent at the review: %d", resp.StatusCode)
	}
	// The dashboard, from the day's roll-up.
	if err := review.RollUp(ctx, pool, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, page = rita.do("GET", "/console/t/lindenbrueck/dashboard", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `<svg role="img" aria-labelledby="chart-title chart-desc"`) ||
		!strings.Contains(page, `<a href="https://www.lindenbrueck.example/hundesteuer">Hundesteuer</a></td><td>2</td>`) ||
		!strings.Contains(page, "hilfreich: 0") {
		t.Errorf("dashboard: %d %s", resp.StatusCode, page)
	}
	if resp, _ := signIn("erika@x.example").do("GET", "/console/t/lindenbrueck/dashboard", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an agent at the dashboard: %d", resp.StatusCode)
	}
	var exports int
	pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'review.export' AND actor = 'rita@x.example'`).Scan(&exports)
	if exports != 1 {
		t.Errorf("%d exports audited, want 1", exports)
	}
}
