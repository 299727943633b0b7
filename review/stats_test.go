package review

import (
	"context"
	"testing"
	"time"

	"github.com/citybot-project/citybot/conversation"
	"github.com/citybot-project/citybot/database/dbtest"
)

// TestDailyRollUps: a day's answers, handoffs, cited pages and handed-off questions are counted
// per town, the same however often the roll-up runs, and outlive the answers themselves.
func TestDailyRollUps(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	lb, ef := dbtest.Town(t, pool, "lindenbrueck"), dbtest.Town(t, pool, "eichenfeld")
	seed(t, pool, lb,
		answer{"a1", "Was kostet die Hundesteuer?", "answer", "", "96 Euro.", "https://www.lindenbrueck.example/hundesteuer", "de", "extractive", "up", ""},
		answer{"a2", "Hundesteuer zweiter Hund", "answer", "", "96 Euro.", "https://www.lindenbrueck.example/hundesteuer", "de", "extractive", "", ""},
		answer{"a3", "Wann hat das Freibad offen?", "handoff", "low_confidence", "Ein Mensch hilft.", "https://www.lindenbrueck.example/", "de", "extractive", "", ""},
		answer{"a4", "wann hat das freibad offen? ", "handoff", "low_confidence", "A person helps.", "https://www.lindenbrueck.example/", "en", "extractive", "", ""})
	seed(t, pool, ef, answer{"a1", "Hundesteuer?", "answer", "", "144 Euro.", "https://www.eichenfeld.example/hundesteuer", "de", "extractive", "", ""})
	today := time.Now().UTC()
	for range 2 {
		if err := RollUp(ctx, pool, today); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		d, err := Stats(ctx, pool, lb, today, 7)
		if err != nil {
			t.Fatal(err)
		}
		last := d.Days[len(d.Days)-1]
		if len(d.Days) != 7 || last.Answers != 2 || last.Handoffs != 2 || d.TotalAnswers != 2 || d.Handoffs != 2 || d.MostPerDay != 4 {
			t.Errorf("%s: days %+v, totals %d/%d", when, d.Days, d.TotalAnswers, d.Handoffs)
		}
		if len(d.Reasons) != 1 || d.Reasons[0].Name != "low_confidence" || d.Reasons[0].N != 2 {
			t.Errorf("%s: reasons %+v", when, d.Reasons)
		}
		if len(d.Pages) != 1 || d.Pages[0].Detail != "https://www.lindenbrueck.example/hundesteuer" || d.Pages[0].N != 2 {
			t.Errorf("%s: pages %+v", when, d.Pages)
		}
		if len(d.HandedOff) != 1 || d.HandedOff[0].Name != "wann hat das freibad offen?" || d.HandedOff[0].N != 2 {
			t.Errorf("%s: handed off %+v", when, d.HandedOff)
		}
		if len(d.Langs) != 2 || d.Langs[0].Name != "de" || d.Langs[0].N != 3 {
			t.Errorf("%s: languages %+v", when, d.Langs)
		}
	}
	check("rolled up")
	if d, _ := Stats(ctx, pool, ef, today, 7); d.TotalAnswers != 1 || d.Handoffs != 0 {
		t.Errorf("eichenfeld: %+v", d)
	}
	// The retention purge deletes the answers; yesterday's roll-up of today must not undo today's.
	if _, err := pool.Exec(ctx, `DELETE FROM answers`); err != nil {
		t.Fatal(err)
	}
	if err := RollUp(ctx, pool, today.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	check("after the answers are gone")
}

// TestLiveChatRollUp: the dashboard counts a day's live chats by what became of them, and the
// mean wait of the accepted, per town, after the chats themselves are gone.
func TestLiveChatRollUp(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	lb, ef := dbtest.Town(t, pool, "lindenbrueck"), dbtest.Town(t, pool, "eichenfeld")
	now := time.Now().UTC()
	chat := func(town int, accepted time.Duration, state, reason string) {
		t.Helper()
		conv, _, err := conversation.NewStore(pool, town, time.Now).Create(ctx, "de")
		if err != nil {
			t.Fatal(err)
		}
		var acc *time.Time
		if accepted > 0 {
			a := now.Add(-time.Hour + accepted)
			acc = &a
		}
		var why *string
		if reason != "" {
			why = &reason
		}
		if _, err := pool.Exec(ctx, `INSERT INTO live_chats (town_id, conversation_id, lang, state, queued_at, accepted_at, end_reason)
			VALUES ($1, $2, 'de', $3, $4, $5, $6)`, town, conv.ID, state, now.Add(-time.Hour), acc, why); err != nil {
			t.Fatal(err)
		}
	}
	chat(lb, 30*time.Second, "ended", "handed_back")
	chat(lb, 90*time.Second, "active", "")
	chat(lb, 0, "ended", "timeout")
	chat(lb, 0, "ended", "citizen")
	chat(lb, 0, "queued", "")
	chat(ef, 10*time.Second, "ended", "ended")
	for range 2 {
		if err := RollUp(ctx, pool, now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `DELETE FROM conversations`); err != nil { // the retention purge
		t.Fatal(err)
	}
	d, err := Stats(ctx, pool, lb, now, 7)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, c := range d.Live {
		got[c.Name] = c.N
	}
	if len(got) != 4 || got["accepted"] != 2 || got["timeout"] != 1 || got["left"] != 1 || got["waiting"] != 1 || d.Live[0].Name != "accepted" {
		t.Errorf("live chats %+v", d.Live)
	}
	if d.MeanWait != time.Minute {
		t.Errorf("mean wait %v, want 1m0s", d.MeanWait)
	}
	if d, _ := Stats(ctx, pool, ef, now, 7); len(d.Live) != 1 || d.Live[0].N != 1 || d.MeanWait != 10*time.Second {
		t.Errorf("eichenfeld: %+v %v", d.Live, d.MeanWait)
	}
}
