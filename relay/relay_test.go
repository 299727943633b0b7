package relay

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/conversation"
	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/database/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var quiet = slog.New(slog.DiscardHandler)

func startHub(t *testing.T, h *Hub) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go h.Run(ctx)
}

func say(t *testing.T, pool *pgxpool.Pool, town int, conv, text string) int64 {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"type": "agent_message", "text": text})
	var id int64
	err := database.InTown(context.Background(), pool, []int{town}, func(tx pgx.Tx) error {
		var err error
		id, err = AddMessage(context.Background(), tx, town, conv, "agent", body, time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func next(t *testing.T, s *Sub) Event {
	t.Helper()
	select {
	case e := <-s.C:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
	return Event{}
}

// TestRelayDeliversToWatchers: a message reaches the subscribers of its conversation, on another
// hub too, and nobody else; one too long for a notice is read from the table.
func TestRelayDeliversToWatchers(t *testing.T) {
	pool := dbtest.Pool(t)
	town, other := dbtest.Town(t, pool, "lindenbrueck"), dbtest.Town(t, pool, "auenstadt")
	conv1, _, _ := conversation.NewStore(pool, town, time.Now).Create(context.Background(), "de")
	conv2, _, _ := conversation.NewStore(pool, town, time.Now).Create(context.Background(), "de")
	a, b := NewHub(pool, quiet), NewHub(pool, quiet)
	startHub(t, a)
	startHub(t, b)
	for !a.Listening() || !b.Listening() {
		time.Sleep(10 * time.Millisecond)
	}
	watcher, bystander, queue := b.Subscribe(), b.Subscribe(), a.Subscribe()
	watcher.Watch(town, conv1.ID)
	bystander.Watch(town, conv2.ID)
	queue.WatchQueue(other)

	id := say(t, pool, town, conv1.ID, "Guten Tag")
	if e := next(t, watcher); e.Msg != id || e.Role != "agent" || !strings.Contains(string(e.Body), "Guten Tag") {
		t.Fatalf("got %+v", e)
	}
	long := strings.Repeat("Ä", 5000) // 10,000 bytes: over a notice's limit
	id = say(t, pool, town, conv1.ID, long)
	if e := next(t, watcher); e.Msg != id || !strings.Contains(string(e.Body), long) {
		t.Fatalf("the long message came as %d bytes", len(e.Body))
	}
	select {
	case e := <-bystander.C:
		t.Fatalf("another conversation's subscriber got %+v", e)
	case e := <-queue.C:
		t.Fatalf("another town's queue got %+v", e)
	case tw := <-queue.Queue:
		t.Fatalf("another town's queue got a notice of town %d", tw)
	case <-time.After(300 * time.Millisecond):
	}
	watcher.Close()
	say(t, pool, town, conv1.ID, "nach dem Schließen")
	select {
	case e := <-watcher.C:
		t.Fatalf("a closed subscriber got %+v", e)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestRelayPollsWhenNotificationsDoNotArrive: a hub listening where its probes never arrive (here
// another database, as behind a pooler in transaction mode) does not count as listening, and
// delivers the messages by polling.
func TestRelayPollsWhenNotificationsDoNotArrive(t *testing.T) {
	pool := dbtest.Pool(t)
	town := dbtest.Town(t, pool, "lindenbrueck")
	conv, _, _ := conversation.NewStore(pool, town, time.Now).Create(context.Background(), "de")
	elsewhere, err := pgx.ParseConfig(dbtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	h := NewHub(pool, quiet)
	h.ListenConfig, h.ProbeWait, h.Poll = elsewhere, 200*time.Millisecond, 100*time.Millisecond
	startHub(t, h)
	s := h.Subscribe()
	s.Watch(town, conv.ID)
	id := say(t, pool, town, conv.ID, "Hallo")
	if e := next(t, s); e.Msg != id {
		t.Fatalf("got %+v", e)
	}
	if h.Listening() {
		t.Fatal("the hub counts as listening though its probes never arrive")
	}
}

// TestSlowSubscriberIsDropped: a subscriber that does not read is dropped (Lost closes) instead
// of holding up the hub.
func TestSlowSubscriberIsDropped(t *testing.T) {
	pool := dbtest.Pool(t)
	town := dbtest.Town(t, pool, "lindenbrueck")
	conv, _, _ := conversation.NewStore(pool, town, time.Now).Create(context.Background(), "de")
	h := NewHub(pool, quiet)
	startHub(t, h)
	for !h.Listening() {
		time.Sleep(10 * time.Millisecond)
	}
	slow, fast := h.Subscribe(), h.Subscribe()
	slow.Watch(town, conv.ID)
	fast.Watch(town, conv.ID)
	got := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			<-fast.C
			got++
		}
	}()
	for range 100 {
		say(t, pool, town, conv.ID, "x")
	}
	select {
	case <-slow.Lost:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow subscriber was not dropped")
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the reading subscriber got %d of 100", got)
	}
}

// TestQueueNoticesCoalesce: a burst of changes of a town's queue is one notice for a subscriber
// that has not taken the last, and never drops it.
func TestQueueNoticesCoalesce(t *testing.T) {
	pool := dbtest.Pool(t)
	town := dbtest.Town(t, pool, "lindenbrueck")
	h := NewHub(pool, quiet)
	startHub(t, h)
	for !h.Listening() {
		time.Sleep(10 * time.Millisecond)
	}
	s := h.Subscribe()
	s.WatchQueue(town)
	for range 200 {
		if err := database.InTown(context.Background(), pool, []int{town}, func(tx pgx.Tx) error {
			return Notify(context.Background(), tx, Event{Town: town, Kind: KindQueue})
		}); err != nil {
			t.Fatal(err)
		}
	}
	if got := <-s.Queue; got != town {
		t.Fatalf("notice of town %d, want %d", got, town)
	}
	time.Sleep(300 * time.Millisecond) // the rest of the burst arrives
	select {
	case <-s.Lost:
		t.Fatal("a burst of queue changes dropped the subscriber")
	default:
	}
	if n := len(s.Queue); n > 1 {
		t.Fatalf("%d notices waiting, want at most one", n)
	}
}
