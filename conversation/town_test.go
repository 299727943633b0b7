package conversation

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/citybot-project/citybot/database/dbtest"
)

// TestStoresOfTwoTownsNeverMeet: every store method of one town leaves the other town's
// conversations, answers, ratings and tickets alone, although they share one database and a
// conversation's id is all a caller names.
func TestStoresOfTwoTownsNeverMeet(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	now := func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }
	a := NewStore(pool, dbtest.Town(t, pool, "lindenbrueck"), now)
	b := NewStore(pool, dbtest.Town(t, pool, "eichenfeld"), now)

	conv, token, err := a.Create(ctx, "de")
	if err != nil {
		t.Fatal(err)
	}
	answer := storedAnswer{ID: "a1", Question: "Was kostet die Hundesteuer?", Kind: "answer", Text: "96 Euro", Lang: "de", Composer: "extractive"}
	if err := a.saveExchange(ctx, conv.ID, "de", map[string]string{"text": answer.Question}, answer, map[string]string{"text": answer.Text}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.createTicket(ctx, conv.ID, Ticket{Kind: "callback", Name: "[Name]", Phone: "[Telefon]", Lang: "de"}); err != nil {
		t.Fatal(err)
	}

	// Eichenfeld's store, given Lindenbrück's token and ids.
	if _, err := b.Resume(ctx, token, now().Add(-time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Errorf("resume across towns: %v", err)
	}
	if h, err := b.History(ctx, conv.ID); err != nil || len(h) != 0 {
		t.Errorf("history across towns: %d messages, %v", len(h), err)
	}
	if err := b.rate(ctx, conv.ID, "a1", "down", "falsch"); !errors.Is(err, ErrNotFound) {
		t.Errorf("rating across towns: %v", err)
	}
	if err := b.saveExchange(ctx, conv.ID, "de", nil, storedAnswer{ID: "a2", Kind: "answer", Text: "x", Lang: "de", Composer: "extractive"}, map[string]string{}); err == nil {
		t.Errorf("an answer stored into another town's conversation")
	}
	if _, err := b.createTicket(ctx, conv.ID, Ticket{Kind: "callback", Lang: "de"}); err == nil {
		t.Errorf("a ticket filed on another town's conversation")
	}
	if err := b.Forget(ctx, conv.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Purge(ctx, now().Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("purge across towns: %d, %v", n, err)
	}

	// Lindenbrück's conversation is whole.
	if c, err := a.Resume(ctx, token, now().Add(-time.Hour)); err != nil || c.ID != conv.ID || c.Answers != 1 {
		t.Fatalf("resume at home: %+v %v", c, err)
	}
	if h, err := a.History(ctx, conv.ID); err != nil || len(h) != 2 {
		t.Errorf("history at home: %d messages, %v", len(h), err)
	}
	if err := a.rate(ctx, conv.ID, "a1", "up", ""); err != nil {
		t.Errorf("rating at home: %v", err)
	}
	var tickets int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM tickets`).Scan(&tickets); err != nil || tickets != 1 {
		t.Errorf("%d tickets, want Lindenbrück's one (%v)", tickets, err)
	}
	if n, err := a.Purge(ctx, now().Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("purge at home: %d, %v", n, err)
	}
}
