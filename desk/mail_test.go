package desk

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/audit"
	"github.com/citybot-project/citybot/conversation"
	"github.com/citybot-project/citybot/database/dbtest"
	"github.com/citybot-project/citybot/mailer"
	"github.com/citybot-project/citybot/mailer/mailtest"
	"github.com/citybot-project/citybot/privacy"
)

var quiet = slog.New(slog.DiscardHandler)

func newTicket(t *testing.T, pool *pgxpool.Pool, town int, tk conversation.Ticket) string {
	t.Helper()
	ctx := context.Background()
	st := conversation.NewStore(pool, town, time.Now)
	conv, _, err := st.Create(ctx, "de")
	if err != nil {
		t.Fatal(err)
	}
	n, err := conversation.NewService(st, nil, privacy.NewRedactor(time.Now)).Ticket(ctx, conv.ID, tk)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestNewRequestsReachTheOffice: each new request is mailed once to its town's desk address,
// with the citizen's contact and the inbox's address; a town without an address gets its
// requests marked and no mail; a server that is down leaves the request for the next round;
// two instances working at once send each request once.
func TestNewRequestsReachTheOffice(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	lb, ef := dbtest.Town(t, pool, "lindenbrueck"), dbtest.Town(t, pool, "eichenfeld")
	if _, err := pool.Exec(ctx, `UPDATE towns SET settings = settings || '{"desk_email": "buergerbuero@lindenbrueck.example"}' WHERE id = $1`, lb); err != nil {
		t.Fatal(err)
	}
	smtp := mailtest.StartServer(t, nil)
	m, _ := mailer.New("smtp://"+smtp.Addr, "citybot@lindenbrueck.example")
	down, _ := mailer.New("smtp://127.0.0.1:1", "citybot@lindenbrueck.example")

	a := newTicket(t, pool, lb, conversation.Ticket{Kind: "callback", Name: "Anna", Phone: "0171 1234567", Lang: "de"})
	newTicket(t, pool, ef, conversation.Ticket{Kind: "callback", Name: "Cem", Phone: "0171 7654321", Lang: "tr"})
	if n, err := Notify(ctx, pool, down, "", quiet); err == nil || n != 0 {
		t.Errorf("with the server down: %d sent, %v", n, err)
	}
	if n, err := Notify(ctx, pool, m, "https://chat.lindenbrueck.example", quiet); err != nil || n != 1 {
		t.Fatalf("sent %d: %v", n, err)
	}
	got := smtp.Received()
	if len(got) != 1 || got[0].To != "buergerbuero@lindenbrueck.example" {
		t.Fatalf("received %+v", got)
	}
	for _, want := range []string{a, "0171 1234567", "Anna", "https://chat.lindenbrueck.example/console/t/lindenbrueck/tickets"} {
		if !strings.Contains(got[0].Text(), want) {
			t.Errorf("the notice lacks %q:\n%s", want, got[0].Text())
		}
	}
	if got[0].Subject() != "Rückrufbitte "+a+" (lindenbrueck)" {
		t.Errorf("subject %q", got[0].Subject())
	}
	if n, _ := Notify(ctx, pool, m, "", quiet); n != 0 || len(smtp.Received()) != 1 {
		t.Errorf("a second round sent %d", n)
	}
	// Two instances at once: each request once.
	var numbers []string
	for range 6 {
		numbers = append(numbers, newTicket(t, pool, lb, conversation.Ticket{Kind: "email", Name: "B", Email: "b@buerger.example", Lang: "de"}))
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if _, err := Notify(ctx, pool, m, "", quiet); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for _, r := range smtp.Received()[1:] {
		for _, n := range numbers {
			if strings.Contains(r.Text(), n) {
				seen[n]++
			}
		}
	}
	for _, n := range numbers {
		if seen[n] != 1 {
			t.Errorf("%s mailed %d times", n, seen[n])
		}
	}
}

// TestReplyToAnEmailRequest: the answer reaches the citizen, is stored with the ticket (done)
// and audited; a callback request, an empty answer and a mail server that is down change nothing.
func TestReplyToAnEmailRequest(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	lb := dbtest.Town(t, pool, "lindenbrueck")
	smtp := mailtest.StartServer(t, nil)
	m, _ := mailer.New("smtp://"+smtp.Addr, "service@lindenbrueck.example")
	down, _ := mailer.New("smtp://127.0.0.1:1", "service@lindenbrueck.example")
	email := newTicket(t, pool, lb, conversation.Ticket{Kind: "email", Name: "Anna", Email: "anna@buerger.example", Lang: "de"})
	callback := newTicket(t, pool, lb, conversation.Ticket{Kind: "callback", Name: "Bernd", Phone: "0171 1", Lang: "de"})

	if err := Reply(ctx, pool, down, lb, 0, "erika@x.example", email, "Die Hundesteuer beträgt 96 Euro."); err == nil {
		t.Error("sent with the server down")
	}
	if err := Reply(ctx, pool, m, lb, 0, "erika@x.example", callback, "Hallo"); !errors.Is(err, ErrNotEmail) {
		t.Errorf("a callback request: %v", err)
	}
	if err := Reply(ctx, pool, m, lb, 0, "erika@x.example", email, "   "); !errors.Is(err, ErrEmptyReply) {
		t.Errorf("an empty answer: %v", err)
	}
	if list, _ := Tickets(ctx, pool, lb, Open); len(list) != 2 || list[0].Reply != "" {
		t.Fatalf("after the failures: %+v", list)
	}
	if entries, _ := audit.List(ctx, pool, lb, 10); len(entries) != 0 {
		t.Errorf("audited without an answer sent: %+v", entries)
	}
	if err := Reply(ctx, pool, m, lb, 0, "erika@x.example", email, "Die Hundesteuer beträgt 96 Euro."); err != nil {
		t.Fatal(err)
	}
	got := smtp.Received()
	if len(got) != 1 || got[0].To != "anna@buerger.example" || !strings.HasPrefix(got[0].Text(), "Die Hundesteuer beträgt 96 Euro.\n") {
		t.Fatalf("received %+v", got)
	}
	done, _ := Tickets(ctx, pool, lb, Done)
	if len(done) != 1 || done[0].Number != email || done[0].Reply != "Die Hundesteuer beträgt 96 Euro." {
		t.Errorf("done: %+v", done)
	}
	if entries, _ := audit.List(ctx, pool, lb, 10); len(entries) != 1 || entries[0].Action != "ticket.reply" || entries[0].Target != email {
		t.Errorf("audit: %+v", entries)
	}
}
