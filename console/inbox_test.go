package console

import (
	"context"
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
	"github.com/citybot-project/citybot/mailer"
	"github.com/citybot-project/citybot/mailer/mailtest"
	"github.com/citybot-project/citybot/privacy"
)

// TestInboxAccess: an agent sees and works their town's inbox and no other town's; a reviewer of
// the town may not; an unknown town is a 404; a change needs the form's token, shows in the
// inbox, and cannot reach another town's ticket.
func TestInboxAccess(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	lb, ef := dbtest.Town(t, pool, "lindenbrueck"), dbtest.Town(t, pool, "eichenfeld")
	staff(t, pool, "erika@x.example", "Erika Muster", lb, auth.RoleAgent)
	staff(t, pool, "rita@x.example", "Rita", lb, auth.RoleReviewer)
	staff(t, pool, "emil@x.example", "Emil", ef, auth.RoleAgent)
	ticket := func(town int, name string) string {
		st := conversation.NewStore(pool, town, time.Now)
		conv, _, _ := st.Create(ctx, "de")
		n, err := conversation.NewService(st, nil, privacy.NewRedactor(time.Now)).Ticket(ctx, conv.ID,
			conversation.Ticket{Kind: "email", Name: name, Email: name + "@buerger.example", Lang: "de"})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	mine, theirs := ticket(lb, "anna"), ticket(ef, "cem")
	smtp := mailtest.StartServer(t, nil)
	m, _ := mailer.New("smtp://"+smtp.Addr, "service@lindenbrueck.example")
	srv := httptest.NewServer(New(pool, slog.New(slog.DiscardHandler), time.Now, Options{Mail: m}))
	t.Cleanup(srv.Close)
	signIn := func(email string) browser { return signIn(t, srv.URL, email) }
	erika := signIn("erika@x.example")
	resp, page := erika.do("GET", "/console/t/lindenbrueck/tickets", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, mine) || strings.Contains(page, theirs) || !strings.Contains(page, "anna@buerger.example") {
		t.Fatalf("erika's inbox: %d %s", resp.StatusCode, page)
	}
	for who, path := range map[string]string{"erika at eichenfeld": "/console/t/eichenfeld/tickets"} {
		if resp, _ := erika.do("GET", path, nil, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", who, resp.StatusCode)
		}
	}
	if resp, _ := signIn("rita@x.example").do("GET", "/console/t/lindenbrueck/tickets", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a reviewer at the inbox: %d, want 403", resp.StatusCode)
	}
	if resp, _ := erika.do("GET", "/console/t/nirgendwo/tickets", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown town: %d", resp.StatusCode)
	}
	if resp, _ := signIn("emil@x.example").do("GET", "/console/t/eichenfeld/tickets", nil, nil); resp.StatusCode != 200 {
		t.Errorf("emil's own inbox: %d", resp.StatusCode)
	}
	csrf := csrfField.FindStringSubmatch(page)[1]
	change := url.Values{"status": {"in_progress"}, "take": {"1"}}
	if resp, _ := erika.do("POST", "/console/t/lindenbrueck/tickets/"+mine, change, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a change without the form's token: %d", resp.StatusCode)
	}
	change.Set("csrf", csrf)
	if resp, _ := erika.do("POST", "/console/t/lindenbrueck/tickets/"+mine, change, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a change: %d", resp.StatusCode)
	}
	if _, page := erika.do("GET", "/console/t/lindenbrueck/tickets?status=in_progress", nil, nil); !strings.Contains(page, mine) || !strings.Contains(page, "Erika Muster") {
		t.Errorf("in progress: %s", page)
	}
	if resp, _ := erika.do("POST", "/console/t/lindenbrueck/tickets/"+theirs, change, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("eichenfeld's ticket through lindenbrueck: %d", resp.StatusCode)
	}
	change.Set("status", "erledigt")
	if resp, _ := erika.do("POST", "/console/t/lindenbrueck/tickets/"+mine, change, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a state that does not exist: %d", resp.StatusCode)
	}
	// Answering the e-mail request: the form labelled with the address, the token, the mail.
	_, page = erika.do("GET", "/console/t/lindenbrueck/tickets?status=in_progress", nil, nil)
	if !strings.Contains(page, `<label for="reply-`+mine+`">Antwort an anna@buerger.example</label>`) {
		t.Errorf("no answer form: %s", page)
	}
	if resp, _ := erika.do("POST", "/console/t/lindenbrueck/tickets/"+mine+"/reply", url.Values{"text": {"Guten Tag"}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an answer without the form's token: %d", resp.StatusCode)
	}
	if resp, _ := erika.do("POST", "/console/t/lindenbrueck/tickets/"+mine+"/reply", url.Values{"text": {"Guten Tag, die Hundesteuer beträgt 96 Euro."},
		"csrf": {csrf}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("an answer: %d", resp.StatusCode)
	}
	if got := smtp.Received(); len(got) != 1 || got[0].To != "anna@buerger.example" || !strings.HasPrefix(got[0].Text(), "Guten Tag, die Hundesteuer beträgt 96 Euro.") {
		t.Errorf("mail %+v", got)
	}
	if _, page := erika.do("GET", "/console/t/lindenbrueck/tickets?status=done", nil, nil); !strings.Contains(page, "Beantwortet: Guten Tag, die Hundesteuer beträgt 96 Euro.") {
		t.Errorf("done: %s", page)
	}
	stranger := newBrowser(t, srv.URL)
	if resp, _ := stranger.do("GET", "/console/t/lindenbrueck/tickets", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("without a session: %d", resp.StatusCode)
	}
}
