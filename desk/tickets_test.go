package desk

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/citybot-project/citybot/audit"
	"github.com/citybot-project/citybot/auth"
	"github.com/citybot-project/citybot/conversation"
	"github.com/citybot-project/citybot/database/dbtest"
	"github.com/citybot-project/citybot/privacy"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// TestInboxPerTown: a town's inbox holds its own tickets, oldest first; a change (state, taken
// by me) shows in it and is audited in its transaction; another town's ticket cannot be changed
// through this town, and a state that does not exist is refused.
func TestInboxPerTown(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	lb, ef := dbtest.Town(t, pool, "lindenbrueck"), dbtest.Town(t, pool, "eichenfeld")
	erika, _ := auth.AddUser(ctx, pool, "erika@lindenbrueck.example", "Erika Muster", "", false)
	ticket := func(town int, name string) string {
		st := conversation.NewStore(pool, town, time.Now)
		conv, _, err := st.Create(ctx, "de")
		if err != nil {
			t.Fatal(err)
		}
		n, err := conversation.NewService(st, nil, privacy.NewRedactor(time.Now)).Ticket(ctx, conv.ID,
			conversation.Ticket{Kind: "callback", Name: name, Phone: "0171 1234567", Lang: "de"})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if _, err := pool.Exec(ctx, `UPDATE towns SET settings = settings || '{"desk_hours": "Mo-So 00:00-24:00", "ticket_due_hours": 2}' WHERE id = $1`, lb); err != nil {
		t.Fatal(err)
	}
	first, second, other := ticket(lb, "Anna"), ticket(lb, "Bernd"), ticket(ef, "Cem")
	got, err := Tickets(ctx, pool, lb, "")
	if err != nil || len(got) != 2 || got[0].Number != first || got[1].Number != second || got[0].Status != Open {
		t.Fatalf("lindenbrueck's inbox: %+v %v", got, err)
	}
	if got, _ := Tickets(ctx, pool, ef, ""); len(got) != 1 || got[0].Number != other || got[0].Due.Before(got[0].Created.Add(DefaultDueHours*time.Hour)) {
		t.Errorf("eichenfeld's inbox (due after 16 office hours): %+v", got)
	}
	// Due two hours of an office always open after it came in.
	if due := got[0].Due.Sub(got[0].Created); due != 2*time.Hour || got[0].Overdue(got[0].Created.Add(time.Hour)) ||
		!got[0].Overdue(got[0].Created.Add(3*time.Hour)) {
		t.Errorf("due after %s, overdue at 1 h %v", due, got[0].Overdue(got[0].Created.Add(time.Hour)))
	}
	if err := UpdateTicket(ctx, pool, lb, erika.ID, erika.Email, second, Change{Status: InProgress, AssignToMe: true}); err != nil {
		t.Fatal(err)
	}
	got, _ = Tickets(ctx, pool, lb, InProgress)
	if len(got) != 1 || got[0].Number != second || got[0].AssigneeName != "Erika Muster" || got[0].Updated.IsZero() {
		t.Errorf("in progress: %+v", got)
	}
	if open, _ := Tickets(ctx, pool, lb, Open); len(open) != 1 || open[0].Number != first {
		t.Errorf("still open: %+v", open)
	}
	if err := UpdateTicket(ctx, pool, lb, erika.ID, erika.Email, other, Change{Status: Done}); !errors.Is(err, ErrNoTicket) {
		t.Errorf("eichenfeld's ticket through lindenbrueck: %v", err)
	}
	if got, _ := Tickets(ctx, pool, ef, ""); got[0].Status != Open {
		t.Errorf("eichenfeld's ticket changed: %+v", got[0])
	}
	if err := UpdateTicket(ctx, pool, lb, erika.ID, erika.Email, first, Change{Status: "erledigt"}); err == nil {
		t.Error("a state that does not exist was taken")
	}
	entries, _ := audit.List(ctx, pool, lb, 10)
	if len(entries) != 1 || entries[0].Target != second || entries[0].Actor != erika.Email || entries[0].Details["status"] != InProgress {
		t.Errorf("audit: %+v", entries)
	}
}
