package desk

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/citybot-project/citybot/auth"
	"github.com/citybot-project/citybot/conversation"
	"github.com/citybot-project/citybot/database/dbtest"
)

// TestLiveChatStates: the queue's order and places, a chat accepted once, messages only from
// the chat's agent, the office hours and presence that decide whether live chat is offered, and
// the sweep that ends the waits nobody took and the chats whose agent's console is gone, each
// with what the citizen is told.
func TestLiveChatStates(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	town := dbtest.Town(t, pool, "lindenbrueck")
	if _, err := pool.Exec(ctx, `UPDATE towns SET settings = settings || '{"desk_hours": "Mo-So 00:00-24:00", "desk_live_wait": 60}' WHERE id = $1`, town); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	st := conversation.NewStore(pool, town, func() time.Time { return now })
	conv := func() string {
		c, _, err := st.Create(ctx, "de")
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	u1, _ := auth.AddUser(ctx, pool, "erika@lindenbrueck.example", "Erika Muster", "", false)
	u2, _ := auth.AddUser(ctx, pool, "paul@lindenbrueck.example", "Paul Muster", "", false)
	erika, paul := Agent{ID: u1.ID, Email: u1.Email, Name: "Erika"}, Agent{ID: u2.ID, Email: u2.Email, Name: "Paul"}

	c1, c2, c3 := conv(), conv(), conv()
	if _, err := Request(ctx, pool, town, c1, "de", now); !errors.Is(err, ErrNoAgent) {
		t.Fatalf("a request with nobody available: %v, want ErrNoAgent", err)
	}
	if err := SetPresence(ctx, pool, town, erika, true, now); err != nil {
		t.Fatal(err)
	}
	var chats []Chat
	for i, c := range []string{c1, c2, c3} {
		ch, err := Request(ctx, pool, town, c, "de", now.Add(time.Duration(i)*time.Second))
		if err != nil || ch.Position != i+1 {
			t.Fatalf("request %d: %+v %v, want place %d", i, ch, err, i+1)
		}
		chats = append(chats, ch)
	}
	if again, _ := Request(ctx, pool, town, c1, "de", now); again.ID != chats[0].ID {
		t.Fatalf("a second request made chat %d, want the first's %d", again.ID, chats[0].ID)
	}
	// Paul accepts without being available; only he may write in his chat.
	if _, err := Accept(ctx, pool, town, chats[0].ID, paul, now); err != nil {
		t.Fatal(err)
	}
	if _, err := Accept(ctx, pool, town, chats[0].ID, erika, now); !errors.Is(err, ErrTaken) {
		t.Fatalf("accepting a taken chat: %v", err)
	}
	if _, err := AgentSays(ctx, pool, town, chats[0].ID, erika, "Hallo", now); !errors.Is(err, ErrNoChat) {
		t.Fatalf("Erika writing into Paul's chat: %v", err)
	}
	if c, _ := OpenChat(ctx, pool, town, c2); c.Position != 1 {
		t.Fatalf("the second citizen's place after the first was taken: %d", c.Position)
	}
	if err := Seen(ctx, pool, town, paul, now); err != nil {
		t.Fatal(err)
	}
	if ok, _ := Available(ctx, pool, town, now); !ok {
		t.Fatal("not available with Erika online")
	}
	if err := SetPresence(ctx, pool, town, erika, false, now); err != nil {
		t.Fatal(err)
	}
	if ok, _ := Available(ctx, pool, town, now); ok {
		t.Fatal("available with Erika offline and Paul only present")
	}

	// Half a minute on: nothing to sweep (Paul's console is there, the waits are young).
	if n, err := Sweep(ctx, pool, now.Add(30*time.Second)); err != nil || n != 0 {
		t.Fatalf("sweep after 30 s: %d %v", n, err)
	}
	// The citizen of c3 leaves the queue; two minutes and a half on, c2's wait (60 s + a
	// minute) is over, and Paul's console has been gone for more than two minutes.
	if ok, _ := Leave(ctx, pool, town, c3, now); !ok {
		t.Fatal("leaving the queue")
	}
	if n, err := Sweep(ctx, pool, now.Add(150*time.Second)); err != nil || n != 2 {
		t.Fatalf("sweep after 150 s: %d %v, want 2", n, err)
	}
	for c, want := range map[string]string{c1: `"reason": "agent_gone"`, c2: `"reason": "timeout"`, c3: `"reason": "citizen"`} {
		if _, err := OpenChat(ctx, pool, town, c); !errors.Is(err, ErrNoChat) {
			t.Errorf("%s still open: %v", c, err)
		}
		lines, _, err := Transcript(ctx, pool, town, c)
		if err != nil || len(lines) == 0 || !strings.Contains(string(lines[len(lines)-1].Body), want) {
			t.Errorf("%s's last message %v (%v), want %s", c, lines, err, want)
		}
	}
	if q, _ := Queue(ctx, pool, town); len(q) != 0 {
		t.Errorf("queue %+v after the sweep", q)
	}
}
